import t from 'tap'
import { build, TOKENS } from '../helper.js'

// Every route with a schema: a request that fails it is a 400 naming the parameter and what it accepts.

const auth = { authorization: `Bearer ${TOKENS[0]}` }
const badRequest = (message: string) => ({ statusCode: 400, error: 'Bad Request', message })

t.test('a build id in the path that is not a positive integer is named, on every route that takes one', async t => {
  const app = await build(t)
  const requests: Array<{ method: 'GET' | 'POST', url: string }> = [
    { method: 'GET', url: '/builds/two' },
    { method: 'GET', url: '/builds/0' },
    { method: 'GET', url: '/builds/two/logs' },
    { method: 'POST', url: '/builds/-1/cancel' }
  ]
  for (const request of requests) {
    const res = await app.inject({ ...request, headers: auth })
    t.equal(res.statusCode, 400, request.url)
    t.same(res.json(), badRequest("path parameter 'id' must be an integer of 1 or more"), request.url)
  }
})

t.test("a log's follow parameter is true or false, and no other parameter is taken", async t => {
  const app = await build(t)
  const follow = await app.inject({ method: 'GET', url: '/builds/1/logs?follow=maybe', headers: auth })
  t.same(follow.json(), badRequest("query parameter 'follow' must be true or false"))
  const other = await app.inject({ method: 'GET', url: '/builds/1/logs?tail=10', headers: auth })
  t.same(other.json(), badRequest("unknown query parameter 'tail' (accepted: follow)"))
})

t.test('a rollback body names its field and what it accepts', async t => {
  const app = await build(t)
  const post = (payload: string) => app.inject({ method: 'POST', url: '/projects/demo/rollback', headers: { ...auth, 'content-type': 'application/json' }, payload })
  const cases: Array<[string, string]> = [
    ['{"build": "x"}', "body field 'build' must be an integer of 1 or more"],
    ['{"build": 0}', "body field 'build' must be an integer of 1 or more"],
    ['{"biuld": 3}', "unknown body field 'biuld' (accepted: build)"],
    ['[3]', 'the body must be an object']
  ]
  for (const [payload, message] of cases) {
    const res = await post(payload)
    t.equal(res.statusCode, 400, payload)
    t.same(res.json(), badRequest(message), payload)
  }
})

t.test('a query string is judged only once the caller is authenticated', async t => {
  const app = await build(t)
  const res = await app.inject({ method: 'GET', url: '/builds?foo=1' })
  t.equal(res.statusCode, 401)
})
