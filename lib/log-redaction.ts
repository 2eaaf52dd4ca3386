// Every header or field that can hold a secret, censored by name in each log line's object. Fastify's request
// serializer logs no headers, but an `err` or an object logged by hand might carry them. The values of known
// secrets are replaced in the written line besides (LogLineRedactor), whatever their key.
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

/**
 * The paths censored, in pino's `redact` notation: each secret field at the top of a log line's object or one
 * level down, and each secret header of a `headers` object at the top or one level down. `censorSecrets` and
 * `censorSerialized` apply them (pino's own `redact` did, at several times the cost per line).
 */
export const REDACT_PATHS: readonly string[] = Object.freeze([
  ...SECRET_HEADERS.flatMap(header => [`headers["${header}"]`, `*.headers["${header}"]`]),
  ...SECRET_FIELDS.flatMap(field => [field, `*.${field}`])
])

const SECRET_HEADER_NAMES: ReadonlySet<string> = new Set(SECRET_HEADERS)
const SECRET_FIELD_NAMES: ReadonlySet<string> = new Set(SECRET_FIELDS)
// The keys whose values pino hands to a serializer: censored in what the serializer returns, never copied before.
const SERIALIZED_KEYS: ReadonlySet<string> = new Set(['req', 'res', 'err'])

type Fields = Record<string, unknown>

function isFields (value: unknown): value is Fields {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

/**
 * `fields` with its secret fields censored, and the secret headers of its `headers`, one level deeper too while
 * `depth` > 1. Copy on write: the very object when it holds no secret (nearly every line), never changed in place.
 */
function censor (fields: Fields, depth: number, skip: ReadonlySet<string> | null): Fields {
  let out = fields
  for (const key of Object.keys(fields)) {
    const value = fields[key]
    let censored: unknown
    if (SECRET_FIELD_NAMES.has(key)) censored = REDACT_CENSOR
    // One level down only `headers` has anything to censor (its secret headers).
    else if (!isFields(value) || skip?.has(key) === true || (depth === 1 && key !== 'headers')) continue
    else censored = censorValue(key, value, depth)
    if (censored === value) continue
    if (out === fields) out = { ...fields }
    out[key] = censored
  }
  return out
}

/** A field's object value as it will be written (its toJSON's result, if any), censored; the value itself when nothing is. */
function censorValue (key: string, value: Fields, depth: number): unknown {
  const written = typeof value.toJSON === 'function' ? (value.toJSON as () => unknown)() : value
  if (!isFields(written)) return value
  let censored = depth > 1 ? censor(written, depth - 1, null) : written
  if (key === 'headers') censored = censorHeaders(censored)
  return censored === written ? value : censored
}

function censorHeaders (headers: Fields): Fields {
  let out = headers
  for (const name of Object.keys(headers)) {
    if (!SECRET_HEADER_NAMES.has(name)) continue
    if (out === headers) out = { ...headers }
    out[name] = REDACT_CENSOR
  }
  return out
}

/** pino's `formatters.log`: a log line's object with REDACT_PATHS censored (the req, res and err values in what their serializers return). */
export function censorSecrets (fields: Fields): Fields {
  return censor(fields, 2, SERIALIZED_KEYS)
}

/**
 * Makes the children of `logger` (and theirs) censor their bindings as censorSecrets does a line's object: pino
 * writes a child's bindings without formatters.log. Children inherit the wrapped `child` from their parent.
 */
export function censorChildBindings<Logger extends { child: (...args: never[]) => unknown }> (logger: Logger): Logger {
  const child = logger.child as unknown as (this: Logger, bindings: Fields, ...options: unknown[]) => unknown
  ;(logger as { child: unknown }).child = function (this: Logger, bindings: Fields, ...options: unknown[]): unknown {
    return child.call(this, censorSecrets(bindings), ...options)
  }
  return logger
}

/** Wraps a pino serializer: what it returns has its secret fields and headers censored (the `*.` paths). */
export function censorSerialized<T, R> (serializer: (value: T) => R): (value: T) => R {
  return value => {
    const serialized = serializer(value)
    // The same shape: only the values of secret fields and headers become REDACT_CENSOR.
    return isFields(serialized) ? censor(serialized, 1, null) as R : serialized
  }
}

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
