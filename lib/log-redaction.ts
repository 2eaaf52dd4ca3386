// pino `redact` paths: every header or field that can hold a secret. Fastify's request serializer logs
// no headers, but an `err` or an object logged by hand might carry them.
const SECRET_HEADERS = [
  'authorization',
  'x-hub-signature',
  'x-hub-signature-256',
  'x-gitea-signature',
  'x-forgejo-signature',
  'x-gogs-signature',
  'x-gitlab-token',
  'cookie'
]

const SECRET_FIELDS = ['token', 'tokens', 'secret', 'password', 'BEARER_TOKENS', 'GIT_TOKEN', 'GITHUB_TOKEN', 'GIT_AUTH_TOKEN']

export const REDACT_PATHS: readonly string[] = Object.freeze([
  ...SECRET_HEADERS.flatMap(header => [`req.headers["${header}"]`, `headers["${header}"]`, `*.headers["${header}"]`]),
  ...SECRET_FIELDS.flatMap(field => [field, `*.${field}`, `env.${field}`])
])

export const REDACT_CENSOR = '[redacted]'

/** A request as Fastify hands it to the `req` serializer. */
export interface LoggedRequest {
  method: string
  url: string
  host?: string
  ip?: string
  socket?: { remotePort?: number } | null
}

/**
 * The `req` of a log line: Fastify's fields, but the URL without its query string, which can carry anything
 * a caller typed, tokens included (`?access_token=...`).
 */
export function serializeRequest (req: LoggedRequest): Record<string, unknown> {
  const query = req.url.indexOf('?')
  return {
    method: req.method,
    url: query === -1 ? req.url : req.url.slice(0, query),
    host: req.host,
    remoteAddress: req.ip,
    remotePort: req.socket?.remotePort
  }
}
