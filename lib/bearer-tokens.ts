import { randomBytes } from 'node:crypto'

/** BEARER_TOKENS: comma separated, each trimmed, empty entries dropped, duplicates once. */
export function parseBearerTokens (value: string | undefined): string[] {
  return [...new Set((value ?? '').split(',').map(token => token.trim()).filter(token => token !== ''))]
}

/** A token for local development when none is configured: 32 random bytes, URL-safe. */
export function generateToken (): string {
  return randomBytes(32).toString('base64url')
}
