/** An error a user can act on, with a stable code for logs, tests and tooling. */
export class BuildHookError extends Error {
  readonly code: string

  constructor (code: string, message: string, options?: ErrorOptions) {
    super(message, options)
    this.name = 'BuildHookError'
    this.code = code
  }
}
