import Type from 'typebox'

/** Every error the API sends: {statusCode, error, message}. */
export const ErrorResponse = Type.Object({
  statusCode: Type.Integer(),
  error: Type.String(),
  message: Type.String()
})

/** An error the error handler sends with its own status and message. */
export class HttpError extends Error {
  constructor (readonly statusCode: number, message: string) {
    super(message)
    this.name = 'HttpError'
  }
}
