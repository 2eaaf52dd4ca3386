import { BuildHookError } from '../errors.js'
import { runProcess } from '../process/run-process.js'
import type { Redactor } from '../secrets/redactor.js'

export interface ResolveBranchOptions {
  url: string
  branch: string
  /** GIT_TOKEN, for private repositories: sent as HTTP Basic credentials, as BuildKit sends GIT_AUTH_TOKEN. */
  token: string | null
  /** The git child's base environment (lib/process/child-env.ts). */
  env: Record<string, string>
  redactor: Redactor
  timeoutMs?: number
  /** Ends git early (shutdown, a cancelled build); the result is then a BH_GIT_UNREACHABLE error. */
  signal?: AbortSignal
}

/** The environment that gives git a token without argv or the URL ever holding it. */
export function gitAuthEnv (token: string | null): Record<string, string> {
  const env: Record<string, string> = {
    GIT_TERMINAL_PROMPT: '0', // fail instead of asking for a password
    GIT_CONFIG_NOSYSTEM: '1'
  }
  if (token === null) return env
  const basic = Buffer.from(`x-access-token:${token}`).toString('base64')
  return { ...env, GIT_CONFIG_COUNT: '1', GIT_CONFIG_KEY_0: 'http.extraHeader', GIT_CONFIG_VALUE_0: `Authorization: Basic ${basic}` }
}

/** The full SHA of refs/heads/<branch> in the remote repository, with `git ls-remote`. */
export async function resolveBranch (options: ResolveBranchOptions): Promise<string> {
  const ref = `refs/heads/${options.branch}`
  const stdout: string[] = []
  const stderr: string[] = []
  const result = await runProcess('git', ['ls-remote', '--exit-code', options.url, ref], {
    env: { ...options.env, ...gitAuthEnv(options.token) },
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
    throw new BuildHookError('BH_GIT_AUTH', `${options.url} requires authentication${options.token === null ? ' (set GIT_TOKEN)' : ' and refused GIT_TOKEN'}`)
  }
  const reason = [...text.split('\n').map(line => line.replace(/^fatal: /, '').trim()), `git exited with code ${String(result.code)}`].find(line => line !== '')!
  throw new BuildHookError('BH_GIT_UNREACHABLE', `cannot read ${options.url}: ${reason}`)
}
