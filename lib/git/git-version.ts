import { BuildHookError } from '../errors.js'
import { runProcess } from '../process/run-process.js'

/** The message when no git can be run: the hook's own machine lacks it, no Git host is at fault. */
export const GIT_MISSING = "git is not installed: no 'git' executable on PATH"

/** `git --version` (e.g. 'git version 2.39.5'); throws BH_GIT_MISSING when git cannot be run. */
export async function gitVersion (env: Record<string, string>, timeoutMs = 5_000): Promise<string> {
  const lines: string[] = []
  const result = await runProcess('git', ['--version'], {
    env,
    signal: AbortSignal.timeout(timeoutMs),
    killGraceMs: 1_000,
    onLine: line => lines.push(line)
  })
  if (result.spawnError !== null) throw new BuildHookError('BH_GIT_MISSING', GIT_MISSING)
  const version = lines.find(line => line.startsWith('git version '))
  if (result.code === 0 && version !== undefined) return version
  const why = result.aborted ? `did not answer within ${timeoutMs} ms` : `exited with code ${String(result.code)}${lines.length === 0 ? '' : `: ${lines.join(' ')}`}`
  throw new BuildHookError('BH_GIT_MISSING', `git cannot be run: 'git --version' ${why}`)
}
