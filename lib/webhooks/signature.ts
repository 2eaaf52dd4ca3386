import { createHmac, timingSafeEqual } from 'node:crypto'

export function hmacHex (algorithm: 'sha256' | 'sha1', secret: string, raw: Buffer): string {
  return createHmac(algorithm, secret).update(raw).digest('hex')
}

/**
 * Constant-time comparison of two strings: timingSafeEqual on equal-length buffers. A length mismatch
 * still runs one comparison (of the expected value with itself) so it takes the same time.
 */
export function safeEqual (received: string, expected: string): boolean {
  const a = Buffer.from(received)
  const b = Buffer.from(expected)
  if (a.length !== b.length) {
    timingSafeEqual(b, b)
    return false
  }
  return timingSafeEqual(a, b)
}

/** A `<prefix><hex HMAC of the raw body>` header value, checked in constant time. */
export function verifyHmac (received: string | undefined, raw: Buffer, secret: string, algorithm: 'sha256' | 'sha1', prefix = ''): boolean {
  if (received === undefined) return false
  return safeEqual(received.toLowerCase(), `${prefix}${hmacHex(algorithm, secret, raw)}`)
}
