/** The exit codes of `build-hook` (README: Command-line client, Exit codes). */
export const EXIT = {
  ok: 0,
  /** The followed build did not succeed, or the service refused the request (4xx other than 401/403). */
  failed: 1,
  usage: 2,
  /** The service cannot be reached, refused the token, failed (5xx), is not configured, or ended a follow early. */
  unavailable: 3,
  /** Ctrl-C while following: 128 + SIGINT, as a shell reports it. */
  interrupted: 130
} as const

/** An error the CLI reports as `build-hook: <message>` and exits with `exitCode`. */
export class CliError extends Error {
  constructor (message: string, readonly exitCode: number) {
    super(message)
    this.name = 'CliError'
  }
}
