import { WebhookPayloadError } from './types.js'
import { object } from './payload.js'

/**
 * The payload of a delivery's raw body: JSON, or the `payload=<JSON>` form that GitHub and Gitea send
 * with the application/x-www-form-urlencoded content type.
 */
export function decodePayload (raw: Buffer, contentType: string | undefined): Record<string, unknown> {
  let json = raw.toString('utf8')
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
