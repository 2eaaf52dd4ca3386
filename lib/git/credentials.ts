import type { Settings } from '../config/index.js'

/** A Git token and the one host it may be sent to. */
export interface GitCredential {
  /** The repository URL's host as written (with :port when the URL has one), as BuildKit names it. */
  host: string
  token: string
}

export const DEFAULT_TOKEN_HOSTS = 'github.com'

/** What to do about a private repository, in every message that says one needs a token. */
export const TOKEN_HINT = 'set [projects.code] token_env, or GIT_TOKEN with the host in GIT_TOKEN_HOSTS'

/**
 * The host part of an http(s) URL exactly as written: BuildKit looks up the GIT_AUTH_TOKEN.<host> secret by
 * it (Go's url.Host keeps the case and an explicit port, unlike WHATWG's URL.host).
 */
export function gitHost (url: string): string {
  const match = /^[a-z][a-z0-9+.-]*:\/\/(?:[^@/?#]*@)?([^/?#]+)/i.exec(url)
  if (match === null) throw new TypeError(`not an absolute URL: ${url}`)
  return match[1]!
}

/** GIT_TOKEN_HOSTS: comma separated, trimmed, compared without case. */
export function parseTokenHosts (value: string | undefined): ReadonlySet<string> {
  return new Set((value ?? DEFAULT_TOKEN_HOSTS).split(',').map(host => host.trim().toLowerCase()).filter(host => host !== ''))
}

/**
 * Each project's Git credential (by slug), read once at start-up: the variable its `[projects.code]
 * token_env` names, sent to code.url's host only; else GIT_TOKEN (or GITHUB_TOKEN), but only when that host
 * is listed in GIT_TOKEN_HOSTS; else none. Start-up has already stopped when a named variable is unset or
 * empty (requireNamedVariables).
 */
export function resolveGitCredentials (settings: Settings, env: Readonly<Record<string, string | undefined>>): ReadonlyMap<string, GitCredential | null> {
  const global = env.GIT_TOKEN ?? env.GITHUB_TOKEN ?? ''
  const tokenHosts = parseTokenHosts(env.GIT_TOKEN_HOSTS)
  const credentials = new Map<string, GitCredential | null>()
  for (const project of settings.projects) {
    const host = gitHost(project.code.url)
    const name = project.code.tokenEnv
    if (name !== null) {
      const token = env[name] ?? ''
      credentials.set(project.slug, token === '' ? null : { host, token })
    } else {
      credentials.set(project.slug, global !== '' && tokenHosts.has(host.toLowerCase()) ? { host, token: global } : null)
    }
  }
  return credentials
}
