import t from 'tap'
import { bearerRefusal, parseBearerTokens } from '../../lib/bearer-tokens.js'

t.test('BEARER_TOKENS is split on commas, trimmed, without empty entries or duplicates', async t => {
  t.same(parseBearerTokens(' a, b ,,a,'), ['a', 'b'])
  t.same(parseBearerTokens(undefined), [])
})

t.test('a missing or empty Authorization header is told how to send one', async t => {
  for (const header of [undefined, '']) t.equal(bearerRefusal(header), 'missing authorization header: send Authorization: Bearer <token>')
})

t.test('a header that is not Bearer <token> is told the form expected, whatever it holds', async t => {
  for (const header of ['Basic dXNlcjpwYXNz', 'Bearer', 'Bearer ', 'Bearer   ', 'Bearer\tsecret', 'secret-token', 'Token secret']) {
    t.equal(bearerRefusal(header), 'the Authorization header must be of the form Bearer <token>', header)
  }
})

t.test('a well-formed bearer header is a token that is not valid, never repeated', async t => {
  for (const header of ['Bearer secret-token', 'bearer secret-token', 'BEARER  secret-token ']) {
    const message = bearerRefusal(header)
    t.equal(message, 'the bearer token is not valid', header)
    t.notMatch(message, 'secret-token')
  }
})
