import t from 'tap'
import type { HttpAnswer } from '../../../lib/reports/http-client.js'
import { backoffMs, DEFAULT_RETRY_POLICY, judge, retryAfter } from '../../../lib/reports/retry-policy.js'

const NOW = new Date('2026-11-26T10:00:00.000Z')
const never = (): boolean => false
const answer = (statusCode: number, body = '', headers: HttpAnswer['headers'] = {}): HttpAnswer => ({ statusCode, headers, body })

t.test('2xx is delivered, and so is an answer the host says means the state is already set', async t => {
  t.same(judge(answer(201), NOW, never), { kind: 'delivered' })
  t.same(judge(answer(400, 'already'), NOW, (code, body) => code === 400 && body === 'already'), { kind: 'delivered' })
})

t.test('408, 429 and 5xx are retried, at Retry-After when given, after the backoff otherwise', async t => {
  t.same(judge(answer(500, '{"message":"Internal error"}'), NOW, never), { kind: 'retry', error: 'HTTP 500: Internal error', at: null })
  t.same(judge(answer(502, '<html>Bad gateway</html>\n<body>'), NOW, never), { kind: 'retry', error: 'HTTP 502: <html>Bad gateway</html>', at: null })
  t.same(judge(answer(408), NOW, never), { kind: 'retry', error: 'HTTP 408', at: null })
  t.same(judge(answer(429, '{"error":{"message":"Rate limit for this resource has been exceeded"}}', { 'retry-after': '30' }), NOW, never),
    { kind: 'retry', error: 'HTTP 429: Rate limit for this resource has been exceeded', at: new Date('2026-11-26T10:00:30.000Z') })
})

t.test('a rate-limited 403 waits for its reset; any other 4xx is final', async t => {
  t.same(judge(answer(403, '{"message":"API rate limit exceeded"}', { 'x-ratelimit-remaining': '0', 'x-ratelimit-reset': String(NOW.getTime() / 1000 + 120) }), NOW, never),
    { kind: 'retry', error: 'HTTP 403: API rate limit exceeded', at: new Date('2026-11-26T10:02:00.000Z') })
  t.same(judge(answer(403, '{"message":"You have exceeded a secondary rate limit"}', { 'retry-after': '60' }), NOW, never).kind, 'retry')
  t.same(judge(answer(403, '{"message":"Resource not accessible by personal access token"}', { 'x-ratelimit-remaining': '4999', 'x-ratelimit-reset': '1' }), NOW, never),
    { kind: 'failed', error: 'HTTP 403: Resource not accessible by personal access token' })
  t.same(judge(answer(401, '{"message":"Bad credentials"}'), NOW, never), { kind: 'failed', error: 'HTTP 401: Bad credentials' })
  t.same(judge(answer(404, 'null'), NOW, never), { kind: 'failed', error: 'HTTP 404: null' })
  t.same(judge(answer(422, '{"message":42}'), NOW, never), { kind: 'failed', error: 'HTTP 422' })
  t.same(judge(answer(404, '{}'), NOW, never), { kind: 'failed', error: 'HTTP 404: {}' })
})

t.test('a redirect is not followed: the token goes nowhere else', async t => {
  t.same(judge(answer(301, '', { location: 'https://elsewhere.test/' }), NOW, never),
    { kind: 'failed', error: 'HTTP 301: redirected (set api_url or url to where it points; redirects are not followed)' })
})

t.test('Retry-After is delay-seconds or an HTTP-date; anything else is ignored', async t => {
  t.same(retryAfter({ 'retry-after': ' 5 ' }, NOW), new Date('2026-11-26T10:00:05.000Z'))
  t.same(retryAfter({ 'retry-after': 'Thu, 26 Nov 2026 10:01:00 GMT' }, NOW), new Date('2026-11-26T10:01:00.000Z'))
  t.same(retryAfter({ 'retry-after': 'Thu, 26 Nov 2026 09:00:00 GMT' }, NOW), NOW, 'a date in the past is now')
  t.equal(retryAfter({ 'retry-after': 'soon' }, NOW), null)
  t.equal(retryAfter({}, NOW), null)
})

t.test('the backoff doubles from the base up to the cap, with jitter in its upper half', async t => {
  const policy = { ...DEFAULT_RETRY_POLICY, retryBaseMs: 1000, retryMaxMs: 8000 }
  t.same([1, 2, 3, 4, 5].map(attempt => backoffMs(attempt, policy, () => 1)), [1000, 2000, 4000, 8000, 8000])
  t.equal(backoffMs(1, policy, () => 0), 500)
})
