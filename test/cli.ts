import type { Test } from 'tap'
import { main } from '../lib/cli/main.js'
import { builderReady, harness, MINIMAL_CONFIG, TOKENS, writeConfig } from './helper.js'

export interface CliResult {
  code: number
  stdout: string
  stderr: string
}

export interface CliRun {
  /** The clock of relative times (default: the real one). */
  now?: () => number
  /** Called with the CLI's Ctrl-C handler once it listens for one (while it follows a build). */
  onInterrupt?: (interrupt: () => void) => void
}

/** Runs `build-hook <argv>` in this process with its own streams and exactly the environment given. */
export async function runCli (argv: string[], env: Record<string, string | undefined> = {}, options: CliRun = {}): Promise<CliResult> {
  let stdout = ''
  let stderr = ''
  const code = await main(argv, {
    stdout: text => { stdout += text },
    stderr: text => { stderr += text },
    env,
    now: options.now ?? Date.now,
    onInterrupt: handler => {
      options.onInterrupt?.(handler)
      return () => {}
    }
  })
  return { code, stdout, stderr }
}

/** A listening service with the demo project, and the client's environment for it. */
export async function cliService (t: Test) {
  const h = await harness(t, { CONFIG_PATH: writeConfig(t, MINIMAL_CONFIG) })
  await builderReady(h.app)
  const url = await h.app.listen({ host: '127.0.0.1', port: 0 })
  return { ...h, url, client: { HOOK_URL: url, HOOK_TOKEN: TOKENS[0] } }
}
