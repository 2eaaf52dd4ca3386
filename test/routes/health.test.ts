import t from 'tap'
import { build, builderReady, eventually, harness, TOKENS } from '../helper.js'
import { closedEndpoint } from '../fixtures/docker.js'

const CONFIG_READY = { ready: true, detail: { projects: 1 } }
const builderDetail = (endpoint: string) => ({ name: 'build-hook', endpoint, state: 'ready', since: String })

t.test('GET /health answers ok without a token', async t => {
  const app = await build(t)
  const res = await app.inject({ method: 'GET', url: '/health' })
  t.equal(res.statusCode, 200)
  t.same(res.json(), { status: 'ok' })
})

t.test('GET /health ignores a wrong token: probes send none', async t => {
  const app = await build(t)
  const res = await app.inject({ method: 'GET', url: '/health', headers: { authorization: 'Bearer nope' } })
  t.equal(res.statusCode, 200)
})

t.test('GET /ready is ready once config and store are loaded and the builder bootstrapped, without a token', async t => {
  const { app, buildkit } = await harness(t)
  await builderReady(app)
  const res = await app.inject({ method: 'GET', url: '/ready' })
  t.equal(res.statusCode, 200)
  t.match(res.json(), { status: 'ready', config: CONFIG_READY, store: { ready: true }, builder: { ready: true, detail: builderDetail(buildkit!.endpoint) } })
})

t.test('GET /ready answers 503 while the builder has never bootstrapped', async t => {
  const endpoint = await closedEndpoint()
  const { app, docker } = await harness(t, { BUILDKIT_HOST: endpoint })
  docker.control({ deadlineMs: 50 })
  const reason = `BuildKit is unreachable at ${endpoint} (context deadline exceeded)`
  const res = await eventually(async () => {
    const res = await app.inject({ method: 'GET', url: '/ready' })
    return res.json().reason === reason ? res : undefined
  }, 'the builder to report BuildKit unreachable')
  t.equal(res.statusCode, 503)
  t.match(res.json(), { status: 'unavailable', reason, builder: { ready: false, reason, detail: { state: 'unavailable', endpoint } } })
})

t.test('GET /ready answers 503 with the reason while a component is not ready', async t => {
  const app = await build(t)
  await builderReady(app)
  app.readiness.set('builder', { ready: false, reason: 'builder is unreachable at tcp://127.0.0.1:1234', detail: { name: 'build-hook' } })
  const res = await app.inject({ method: 'GET', url: '/ready' })
  t.equal(res.statusCode, 503)
  t.same(res.json(), {
    status: 'unavailable',
    reason: 'builder is unreachable at tcp://127.0.0.1:1234',
    config: CONFIG_READY,
    git: { ready: true, detail: { version: res.json().git.detail.version } },
    store: { ready: true },
    builder: { ready: false, reason: 'builder is unreachable at tcp://127.0.0.1:1234', detail: { name: 'build-hook' } }
  })
  t.match(res.json().git.detail.version, /^git version \d/, 'git was found at start-up')
  app.readiness.set('builder', { ready: true })
  t.equal((await app.inject({ method: 'GET', url: '/ready' })).statusCode, 200)
})

t.test('GET /ready answers 503 over HTTP once close has begun, while the listener still accepts', async t => {
  let during: { status: number, body: unknown } | undefined
  let base = ''
  const app = await build(t, {}, {}, app => {
    // Registered after the readiness plugin, so it runs after that plugin's preClose and before the listener closes.
    app.register(async (child) => {
      child.addHook('preClose', async () => {
        const res = await fetch(`${base}/ready`)
        during = { status: res.status, body: await res.json() }
      })
    })
  })
  await builderReady(app)
  base = await app.listen({ host: '127.0.0.1', port: 0 })
  t.equal((await fetch(`${base}/ready`)).status, 200)
  await app.close()
  t.match(during, { status: 503, body: { status: 'shutting_down', reason: 'the server is shutting down', config: CONFIG_READY, store: { ready: true }, builder: { ready: true } } })
})

t.test('a request in flight when close begins still gets its answer', async t => {
  let release!: () => void
  const held = new Promise<void>(resolve => { release = resolve })
  let arrived!: () => void
  const inHandler = new Promise<void>(resolve => { arrived = resolve })
  const app = await build(t, {}, {}, app => {
    app.register(async (child) => {
      child.get('/slow', { config: { auth: 'none' } }, async () => {
        arrived()
        await held
        return { done: true }
      })
    })
  })
  const base = await app.listen({ host: '127.0.0.1', port: 0 })
  const slow = fetch(`${base}/slow`)
  await inHandler
  let closed = false
  const closing = app.close().then(() => { closed = true })
  await new Promise(resolve => setImmediate(resolve))
  t.equal(closed, false, 'close waits for the request')
  release()
  const res = await slow
  t.equal(res.status, 200)
  t.same(await res.json(), { done: true })
  await closing
})

t.test('with SHUTDOWN_DRAIN_SECONDS, close keeps answering 503 on /ready for that long first', async t => {
  const app = await build(t, { SHUTDOWN_DRAIN_SECONDS: '3' })
  const base = await app.listen({ host: '127.0.0.1', port: 0 })
  let closed = false
  const closing = app.close().then(() => { closed = true })
  const res = await fetch(`${base}/ready`)
  t.equal(res.status, 503, 'a new connection during the drain is still served')
  t.match(await res.json(), { status: 'shutting_down', reason: 'the server is shutting down' })
  t.equal(closed, false, 'the listener is still open after that answer: close waits for the drain')
  await closing
  await t.rejects(fetch(`${base}/ready`), 'then the listener is closed')
})

t.test('an unknown route is a JSON 404 that does not echo the query string', async t => {
  const app = await build(t)
  const res = await app.inject({ method: 'GET', url: '/nowhere/else?token=abc' })
  t.equal(res.statusCode, 404)
  t.same(res.json(), { statusCode: 404, error: 'Not Found', message: 'Route GET /nowhere/else not found' })
})

t.test('a failing handler answers a JSON 500 without its internals, and logs the error', async t => {
  const lines: string[] = []
  const { Writable } = await import('node:stream')
  const logStream = new Writable({ write (chunk, _enc, cb) { lines.push(String(chunk)); cb() } })
  const app = await build(t, { LOG_LEVEL: 'error' }, { logStream }, app => {
    app.register(async (child) => {
      child.get('/boom', { config: { auth: 'none' } }, async () => { throw new Error('database password is hunter2') })
    })
  })
  const res = await app.inject({ method: 'GET', url: '/boom' })
  t.equal(res.statusCode, 500)
  t.same(res.json(), { statusCode: 500, error: 'Internal Server Error', message: 'Internal Server Error' })
  t.match(lines.join(''), /"msg":"Request failed\."/)
})

t.test('schema validation errors are JSON 400s naming the field, and unknown body fields are rejected', async t => {
  const Type = (await import('typebox')).default
  const app = await build(t, {}, {}, app => {
    app.register(async (child) => {
      child.post('/typed', {
        config: { auth: 'bearer' },
        schema: { body: Type.Object({ commit: Type.String({ pattern: '^[0-9a-f]{40}$' }) }, { additionalProperties: false }) }
      }, async () => ({ ok: true }))
    })
  })
  const headers = { authorization: `Bearer ${TOKENS[0]}` }
  const bad = await app.inject({ method: 'POST', url: '/typed', headers, payload: { commit: 'abc' } })
  t.equal(bad.statusCode, 400)
  t.same(bad.json(), { statusCode: 400, error: 'Bad Request', message: "body field 'commit' must be a string matching ^[0-9a-f]{40}$" })
  const extra = await app.inject({ method: 'POST', url: '/typed', headers, payload: { commit: 'a'.repeat(40), brnach: 'x' } })
  t.equal(extra.statusCode, 400)
  t.same(extra.json(), { statusCode: 400, error: 'Bad Request', message: "unknown body field 'brnach' (accepted: commit)" })
  const unauthenticated = await app.inject({ method: 'POST', url: '/typed', payload: { commit: 'abc' } })
  t.equal(unauthenticated.statusCode, 401, '401 before validation: unauthenticated callers learn nothing')
})
