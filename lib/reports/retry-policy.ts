import type { IncomingHttpHeaders } from 'node:http'
import type { HttpAnswer } from './http-client.js'

export interface RetryPolicy {
  /** The first retry's delay; each further one doubles it, up to retryMaxMs. */
  retryBaseMs: number
  retryMaxMs: number
  /** A report still undelivered this long after the change it reports is given up on. */
  giveUpAfterMs: number
}

export const DEFAULT_RETRY_POLICY: RetryPolicy = Object.freeze({
  retryBaseMs: 5_000,
  retryMaxMs: 5 * 60_000,
  giveUpAfterMs: 6 * 60 * 60_000
})

/** What to do after an attempt: done, try again (at a time the receiver asked for, or after the backoff), or give up. */
export type Verdict =
  | { kind: 'delivered' }
  | { kind: 'retry', error: string, at: Date | null }
  | { kind: 'failed', error: string }

/**
 * 2xx (or what the host says means the state is already set) is delivered; 408, 429 and 5xx are retried,
 * at Retry-After when the answer has one; a rate limit (403 with Retry-After, or GitHub's
 * x-ratelimit-remaining: 0) waits for its reset; every other answer is final: the request itself is wrong
 * (a bad token, an unknown repository), and sending it again would not change that.
 */
export function judge (answer: HttpAnswer, now: Date, alreadySet: (statusCode: number, body: string) => boolean): Verdict {
  const { statusCode } = answer
  if (statusCode >= 200 && statusCode < 300) return { kind: 'delivered' }
  if (alreadySet(statusCode, answer.body)) return { kind: 'delivered' }
  const error = `HTTP ${statusCode}${describeAnswer(answer)}`
  const at = retryAfter(answer.headers, now) ?? rateLimitReset(answer.headers, now)
  if (statusCode === 408 || statusCode === 429 || statusCode >= 500 || (statusCode === 403 && at !== null)) return { kind: 'retry', error, at }
  if (statusCode >= 300 && statusCode < 400) return { kind: 'failed', error: `${error}: redirected (set api_url or url to where it points; redirects are not followed)` }
  return { kind: 'failed', error }
}

/** The delay before retry number `attempt` (1 for the first): doubling from the base, capped, with jitter so that retries spread. */
export function backoffMs (attempt: number, policy: RetryPolicy, random = Math.random): number {
  const delay = Math.min(policy.retryMaxMs, policy.retryBaseMs * 2 ** (attempt - 1))
  return Math.round(delay / 2 + random() * delay / 2)
}

/** Retry-After: delay-seconds or an HTTP-date; null when absent or unreadable. */
export function retryAfter (headers: IncomingHttpHeaders, now: Date): Date | null {
  const value = headers['retry-after']
  if (value === undefined) return null
  if (/^\d+$/.test(value.trim())) return new Date(now.getTime() + Number(value.trim()) * 1000)
  const at = Date.parse(value)
  return Number.isNaN(at) ? null : new Date(Math.max(at, now.getTime()))
}

/** GitHub's primary rate limit: x-ratelimit-remaining: 0 until x-ratelimit-reset (epoch seconds). */
function rateLimitReset (headers: IncomingHttpHeaders, now: Date): Date | null {
  const reset = Number(headers['x-ratelimit-reset'])
  if (headers['x-ratelimit-remaining'] !== '0' || !Number.isFinite(reset)) return null
  return new Date(Math.max(reset * 1000, now.getTime()))
}

// The hosts answer errors as JSON with a message (GitHub, GitLab, Gitea) or error.message (Bitbucket).
function describeAnswer (answer: HttpAnswer): string {
  let message: unknown = answer.body.split('\n')[0]
  try {
    const parsed = JSON.parse(answer.body) as { message?: unknown, error?: { message?: unknown } }
    message = parsed.message ?? parsed.error?.message ?? message
  } catch {}
  const text = typeof message === 'string' ? message.trim().slice(0, 200) : ''
  return text === '' ? '' : `: ${text}`
}
