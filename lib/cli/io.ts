/** What a CLI command may touch, so tests run commands in-process with their own streams, clock and Ctrl-C. */
export interface CliIo {
  stdout: (text: string) => void
  stderr: (text: string) => void
  env: Record<string, string | undefined>
  /** The current time in ms (relative times in tables). */
  now: () => number
  /** Calls `handler` on the next Ctrl-C (SIGINT) instead of ending the process; returns a function that stops listening. */
  onInterrupt: (handler: () => void) => () => void
}
