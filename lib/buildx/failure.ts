import { TOKEN_HINT } from '../git/credentials.js'
import type { ProcessResult } from '../process/run-process.js'

/** What a failure message can name: the things a user would go and check. */
export interface FailureContext {
  endpoint: string
  repositoryUrl: string
  commit: string
  /** The Dockerfile path in the repository, as configured. */
  location: string
}

const MAX_ERROR_LENGTH = 500

/** The last lines of a failed step's output (buildx prints them between ------ fences). */
function stepOutput (lines: readonly string[]): string[] {
  const start = lines.findIndex(line => /^ > \[.*\]/.test(line))
  if (start < 0) return []
  const end = lines.findIndex((line, i) => i > start && line === '------')
  return lines.slice(start + 1, end < 0 ? undefined : end).map(line => line.replace(/^\d+\.\d+ /, '').trim()).filter(Boolean).slice(-3)
}

function truncate (text: string): string {
  return text.length <= MAX_ERROR_LENGTH ? text : `${text.slice(0, MAX_ERROR_LENGTH - 1)}…`
}

/**
 * One line a user can act on, from a failed docker run: its spawn error or exit status and the lines it
 * printed (stderr, in order). The patterns are the real CLI's messages (shared/BUILDX-FACTS.md).
 */
export function describeFailure (result: ProcessResult, lines: readonly string[], context: FailureContext): string {
  if (result.spawnError !== null) {
    return result.spawnError.code === 'ENOENT'
      ? "docker is not installed: no 'docker' executable on PATH"
      : `cannot run docker: ${result.spawnError.message}`
  }
  const text = lines.join('\n')
  const short = context.commit.slice(0, 12)
  let match: RegExpMatchArray | null
  if (/'buildx' is not a docker command/.test(text)) {
    return 'the docker buildx plugin is not installed (docker: \'buildx\' is not a docker command)'
  }
  if ((match = text.match(/failed to push ([^\s:]+(?::[^\s:]+)?): .*(?:insufficient_scope|authorization failed|access denied|unauthorized|401 Unauthorized|403 Forbidden)/i)) !== null) {
    return `the registry refused the push of ${match[1]!}: not authorised (check the registry credentials in the Docker config)`
  }
  if ((match = text.match(/failed to push ([^\s:]+(?::[^\s:]+)?): .*?(connection refused|no such host|i\/o timeout|network is unreachable)/)) !== null) {
    return `the registry is unreachable: pushing ${match[1]!} failed (${match[2]!})`
  }
  if (/could not read Username|Authentication failed|terminal prompts disabled/.test(text)) {
    return `BuildKit could not fetch ${context.repositoryUrl}: authentication required (${TOKEN_HINT})`
  }
  if (/reference is not a tree|repository does not contain ref/.test(text)) {
    return `commit ${context.commit} was not found in ${context.repositoryUrl}`
  }
  if (/failed to read dockerfile: open .*: no such file or directory/.test(text)) {
    return `Dockerfile '${context.location}' not found in ${context.repositoryUrl} at commit ${short}`
  }
  if ((match = text.match(/process "(?:\/bin\/sh -c )?(.*)" did not complete successfully: exit code: (\d+)/)) !== null) {
    const output = stepOutput(lines)
    return truncate(`build step 'RUN ${match[1]!}' failed with exit code ${match[2]!}${output.length > 0 ? `: ${output.join(' | ')}` : ''}`)
  }
  if (/context deadline exceeded|connection refused|Cannot connect to the BuildKit/.test(text)) {
    return `BuildKit is unreachable at ${context.endpoint} (context deadline exceeded)`
  }
  const last = [...lines].reverse().find(line => line.startsWith('ERROR:'))
  if (last !== undefined) return truncate(last.replace(/^ERROR: (failed to build: )?(failed to solve: )?/, ''))
  return `docker exited with code ${String(result.code)}`
}
