import { WebhookPayloadError } from './types.js'
import { object } from './payload.js'

/**
 * The media types a trigger's body may have. The hook reads such a body as raw bytes, checks its signature
 * over exactly those bytes, and only then decodes it; any other type is refused before a byte is parsed.
 */
export const TRIGGER_MEDIA_TYPES = ['application/json', 'application/x-www-form-urlencoded'] as const

const ACCEPTED = 'send application/json (any charset) or application/x-www-form-urlencoded'

/** The 415 message for a body of another type: the type received (without its parameters) and the accepted ones. */
export function unsupportedMediaType (contentType: string | undefined): string {
  const received = (contentType ?? '').split(';')[0]!.trim().slice(0, 100)
  if (received === '') return `a body needs a content type: ${ACCEPTED}`
  return `unsupported content type ${received}: ${ACCEPTED}`
}

/** A body in a charset this process cannot decode (POST /<slug> answers 415, as for an unknown media type). */
export class UnsupportedCharsetError extends Error {
  constructor (charset: string) {
    super(`charset '${charset.slice(0, 40)}' is not supported`)
    this.name = 'UnsupportedCharsetError'
  }
}

/** The text of a verified body, decoded with the Content-Type's charset (UTF-8 when it names none). */
export function bodyText (raw: Buffer, contentType: string | undefined): string {
  const charset = /;\s*charset\s*=\s*"?([^";\s]+)"?/i.exec(contentType ?? '')?.[1]
  if (charset === undefined || /^utf-?8$/i.test(charset)) return raw.toString('utf8')
  let decoder: InstanceType<typeof TextDecoder>
  try {
    decoder = new TextDecoder(charset)
  } catch {
    throw new UnsupportedCharsetError(charset)
  }
  return decoder.decode(raw)
}

/**
 * The payload of a delivery's verified raw body: JSON, or the `payload=<JSON>` form that GitHub and Gitea
 * send with the application/x-www-form-urlencoded content type.
 */
export function decodePayload (raw: Buffer, contentType: string | undefined): Record<string, unknown> {
  let json = bodyText(raw, contentType)
  if (contentType?.toLowerCase().startsWith('application/x-www-form-urlencoded') === true) {
    const payload = new URLSearchParams(json).get('payload')
    if (payload === null) throw new WebhookPayloadError('the form body has no payload field')
    json = payload
  }
  let value: unknown
  try {
    value = JSON.parse(json)
  } catch {
    throw new WebhookPayloadError('the body is not valid JSON')
  }
  return object(value, 'the body')
}
