import { createHmac } from 'node:crypto'

/** The header a signed notification carries: sha256=<hex HMAC-SHA256 of the body>, as GitHub signs its webhooks. */
export const SIGNATURE_HEADER = 'X-Build-Hook-Signature-256'

export function signBody (body: string, secret: string): string {
  return `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`
}
