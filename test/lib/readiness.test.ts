import t from 'tap'
import { Readiness } from '../../lib/readiness.js'
import { generateToken, parseBearerTokens } from '../../lib/bearer-tokens.js'

t.test('readiness is ready with no components, and reports the first one that is not', async t => {
  const readiness = new Readiness()
  t.same(readiness.report(), { ready: true, status: 'ready', components: {} })
  readiness.set('store', { ready: true })
  readiness.set('builder', { ready: false })
  t.same(readiness.report(), { ready: false, status: 'unavailable', reason: 'builder is not ready', components: { store: { ready: true }, builder: { ready: false } } })
})

t.test('shutting down wins over everything', async t => {
  const readiness = new Readiness()
  readiness.set('builder', { ready: false, reason: 'down' })
  readiness.beginShutdown()
  t.equal(readiness.shuttingDown, true)
  t.match(readiness.report(), { ready: false, status: 'shutting_down', reason: 'the server is shutting down' })
})

t.test('bearer tokens are split on commas, trimmed, de-duplicated, empties dropped', async t => {
  t.same(parseBearerTokens(undefined), [])
  t.same(parseBearerTokens(''), [])
  t.same(parseBearerTokens(' a , b,,a ,  '), ['a', 'b'])
})

t.test('generated tokens are 256-bit and URL-safe', async t => {
  const token = generateToken()
  t.equal(Buffer.from(token, 'base64url').length, 32)
  t.match(token, /^[A-Za-z0-9_-]+$/)
})
