import { randomBytes } from 'node:crypto'
import { BuildHookError } from './errors.js'

/** BEARER_TOKENS: comma separated, each trimmed, empty entries dropped, duplicates once. */
export function parseBearerTokens (value: string | undefined): string[] {
  return [...new Set((value ?? '').split(',').map(token => token.trim()).filter(token => token !== ''))]
}

/**
 * The tokens the API accepts: BEARER_TOKENS, or when it is empty a token generated for this run (local
 * development; `generated` is it, to be shown once). Empty is refused when NODE_ENV=production.
 */
export function resolveBearerTokens (env: { BEARER_TOKENS?: string, NODE_ENV: string }): { tokens: string[], generated: string | null } {
  const tokens = parseBearerTokens(env.BEARER_TOKENS)
  if (tokens.length > 0) return { tokens, generated: null }
  if (env.NODE_ENV === 'production') {
    throw new BuildHookError('BH_NO_TOKENS', 'BEARER_TOKENS is empty: set at least one token (comma separated) when NODE_ENV=production')
  }
  const generated = generateToken()
  return { tokens: [generated], generated }
}

/** A token for local development when none is configured: 32 random bytes, URL-safe. */
export function generateToken (): string {
  return randomBytes(32).toString('base64url')
}

/** What a refused `Authorization` header did wrong, in a sentence that never repeats the header's value. */
export function bearerRefusal (authorization: string | undefined): string {
  if (authorization === undefined || authorization === '') return 'missing authorization header: send Authorization: Bearer <token>'
  // The same test as @fastify/bearer-auth's (scheme case-insensitive, one space, a token after it).
  if (authorization.slice(0, 7).toLowerCase() !== 'bearer ' || authorization.slice(7).trim() === '') {
    return 'the Authorization header must be of the form Bearer <token>'
  }
  return 'the bearer token is not valid'
}
