import t from 'tap'
import Fastify from 'fastify'
import { serverOptions } from '../../app.js'
import { LogLineRedactor } from '../../lib/secrets/log-line-redactor.js'
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
    { method: 'POST', url: '/builds/-1/cancel' },
    // Beyond what a JavaScript number holds exactly: rounded, it would name another build.
    { method: 'GET', url: '/builds/999999999999999999999' },
    { method: 'GET', url: '/builds/9007199254740993/logs' }
  ]
  for (const request of requests) {
    const res = await app.inject({ ...request, headers: auth })
    t.equal(res.statusCode, 400, request.url)
    t.same(res.json(), badRequest("path parameter 'id' must be an integer from 1 to 9007199254740991"), request.url)
  }
  const before = await app.inject({ method: 'GET', url: '/builds?before=99999999999999999999', headers: auth })
  t.same(before.json(), badRequest("query parameter 'before' must be an integer from 1 to 9007199254740991"))
})

t.test('an unknown parameter is named at most 64 characters long, and the value sent never reaches the error', async t => {
  const app = await build(t)
  const name = 'x'.repeat(5000)
  const res = await app.inject({ method: 'GET', url: `/builds?${name}=secret-value`, headers: auth })
  t.same(res.json(), badRequest(`unknown query parameter '${'x'.repeat(64)}…' (accepted: project, status, limit, before)`))
  // The server's own options, on an instance whose error handler shows what a later log line of the error would.
  const bare = Fastify(serverOptions({ env: { LOG_LEVEL: 'silent' } }, new LogLineRedactor({})))
  t.teardown(() => bare.close())
  bare.get('/x', { schema: { querystring: { type: 'object', properties: { limit: { type: 'integer' } } } } }, async () => 'ok')
  bare.setErrorHandler(async (err, _request, reply) => reply.code(400).send({ message: (err as Error).message, validation: (err as { validation?: unknown }).validation }))
  const shown = (await bare.inject({ method: 'GET', url: '/x?limit=secret-value' })).json<{ message: string, validation: unknown[] }>()
  t.equal(shown.message, "query parameter 'limit' must be an integer")
  t.equal(shown.validation.length, 1, 'the error carries its validation errors')
  t.notMatch(JSON.stringify(shown.validation), 'secret-value', 'without the value received')
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
    ['{"build": "x"}', "body field 'build' must be an integer from 1 to 9007199254740991"],
    ['{"build": 0}', "body field 'build' must be an integer from 1 to 9007199254740991"],
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
