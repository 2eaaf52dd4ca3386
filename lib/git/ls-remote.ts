import { BuildHookError } from '../errors.js'
import { runProcess } from '../process/run-process.js'
import type { Redactor } from '../secrets/redactor.js'
import { TOKEN_HINT, type GitCredential } from './credentials.js'

export interface ResolveBranchOptions {
  url: string
  branch: string
  /** The project's Git token and its host: sent as HTTP Basic credentials (as BuildKit sends GIT_AUTH_TOKEN), to that host only. */
  credential: GitCredential | null
  /** The git child's base environment (lib/process/child-env.ts). */
  env: Record<string, string>
  redactor: Redactor
  timeoutMs?: number
  /** Ends git early (shutdown, a cancelled build); the result is then a BH_GIT_UNREACHABLE error. */
  signal?: AbortSignal
}

/**
 * The environment that gives git a token without argv or the URL ever holding it. The header is configured
 * for URLs of the credential's host only (`http.<scheme>://<host>/.extraHeader`): git sends it to no other.
 */
export function gitAuthEnv (url: string, credential: GitCredential | null): Record<string, string> {
  const env: Record<string, string> = {
    GIT_TERMINAL_PROMPT: '0', // fail instead of asking for a password
    GIT_CONFIG_NOSYSTEM: '1'
  }
  if (credential === null) return env
  const scheme = url.slice(0, url.indexOf(':')).toLowerCase()
  const basic = Buffer.from(`x-access-token:${credential.token}`).toString('base64')
  return { ...env, GIT_CONFIG_COUNT: '1', GIT_CONFIG_KEY_0: `http.${scheme}://${credential.host}/.extraHeader`, GIT_CONFIG_VALUE_0: `Authorization: Basic ${basic}` }
}

/** The full SHA of refs/heads/<branch> in the remote repository, with `git ls-remote`. */
export async function resolveBranch (options: ResolveBranchOptions): Promise<string> {
  const ref = `refs/heads/${options.branch}`
  const stdout: string[] = []
  const stderr: string[] = []
  const result = await runProcess('git', ['ls-remote', '--exit-code', options.url, ref], {
    env: { ...options.env, ...gitAuthEnv(options.url, options.credential) },
    signal: AbortSignal.any([AbortSignal.timeout(options.timeoutMs ?? 30_000), ...(options.signal === undefined ? [] : [options.signal])]),
    killGraceMs: 1_000,
    onLine: (line, stream) => (stream === 'stdout' ? stdout : stderr).push(line)
  })
  if (result.spawnError !== null) {
    throw new BuildHookError('BH_GIT_MISSING', "git is not installed: no 'git' executable on PATH")
  }
  const match = stdout.map(line => line.split('\t')).find(([, name]) => name === ref)
  if (result.code === 0 && match !== undefined && /^[0-9a-f]{40}$/.test(match[0]!)) return match[0]!
  if (result.aborted) throw new BuildHookError('BH_GIT_UNREACHABLE', `git ls-remote ${options.url} ${options.signal?.aborted === true ? 'was interrupted' : 'timed out'}`)
  // --exit-code: 2 when the repository answered and has no such ref.
  if (result.code === 2) throw new BuildHookError('BH_GIT_REF_NOT_FOUND', `branch '${options.branch}' was not found in ${options.url}`)
  const text = options.redactor.redact(stderr.join('\n'))
  if (/Authentication failed|could not read Username|terminal prompts disabled|HTTP Basic: Access denied|401/.test(text)) {
    throw new BuildHookError('BH_GIT_AUTH', `${options.url} requires authentication${options.credential === null ? ` (${TOKEN_HINT})` : ' and refused the project\'s Git token'}`)
  }
  const reason = [...text.split('\n').map(line => line.replace(/^fatal: /, '').trim()), `git exited with code ${String(result.code)}`].find(line => line !== '')!
  throw new BuildHookError('BH_GIT_UNREACHABLE', `cannot read ${options.url}: ${reason}`)
}
