import t from 'tap'
import { MINIMAL_CONFIG, serverEnv, writeConfig } from './helper.js'
import { runTs } from './process.js'

const LISTENING = /Server listening at (http:\/\/127\.0\.0\.1:\d+)/

t.test('the server listens on HOST/PORT, serves /health and /ready, and exits 0 on SIGTERM', async t => {
  const server = runTs(t, 'server.ts', [], await serverEnv(t))
  const [, base] = await server.waitFor(LISTENING)
  const health = await fetch(`${base}/health`)
  t.equal(health.status, 200)
  t.same(await health.json(), { status: 'ok' })
  await server.waitFor(/The builder is ready\./)
  t.equal((await fetch(`${base}/ready`)).status, 200)
  server.child.kill('SIGTERM')
  t.same(await server.exited, { code: 0, signal: null })
  t.match(server.stdout(), /"signal":"SIGTERM","msg":"Shutting down\."/)
  t.match(server.stdout(), /"msg":"Shut down\."/)
})

t.test('SIGINT shuts down gracefully too', async t => {
  const server = runTs(t, 'server.ts', [], await serverEnv(t))
  await server.waitFor(LISTENING)
  server.child.kill('SIGINT')
  t.same(await server.exited, { code: 0, signal: null })
})

t.test('a second signal during shutdown forces the exit', async t => {
  const server = runTs(t, 'server.ts', [], await serverEnv(t, { SHUTDOWN_DRAIN_SECONDS: '120' }))
  const [, base] = await server.waitFor(LISTENING)
  // A forced exit ends nothing it started: let the builder's docker calls finish first.
  await server.waitFor(/The builder is ready\./)
  server.child.kill('SIGTERM')
  await server.waitFor(/draining before closing the listener/)
  t.equal((await fetch(`${base}/ready`)).status, 503, 'not ready while draining')
  server.child.kill('SIGTERM')
  t.same(await server.exited, { code: 1, signal: null })
  t.match(server.stdout(), /"msg":"Second signal: exiting now\."/)
})

t.test('an invalid config stops start-up with exit 1 and every problem on stderr', async t => {
  const file = writeConfig(t, MINIMAL_CONFIG.replace('slug = "demo"', 'slug = "metrics"').replace('tag = "latest"', 'tag = "a b"'))
  const server = runTs(t, 'server.ts', [], await serverEnv(t, { CONFIG_PATH: file }))
  t.same(await server.exited, { code: 1, signal: null })
  t.equal(server.stderr(), [
    `build-hook: Invalid configuration in ${file} (2 problems):`,
    '  - projects[0].image[0].tag: must be a valid OCI tag: [A-Za-z0-9_][A-Za-z0-9_.-], at most 128 characters',
    "  - projects[0].slug: 'metrics' is reserved for the service's own route /metrics",
    ''
  ].join('\n'))
  t.match(server.stdout(), /"code":"BH_CONFIG_INVALID","msg":"Start-up failed\."/)
})

t.test('a port that is taken stops start-up with exit 1 and the reason', async t => {
  const { createServer } = await import('node:net')
  const blocker = createServer()
  await new Promise<void>(resolve => blocker.listen(0, '127.0.0.1', resolve))
  t.teardown(() => new Promise<void>(resolve => blocker.close(() => resolve())))
  const port = (blocker.address() as { port: number }).port
  const server = runTs(t, 'server.ts', [], await serverEnv(t, { PORT: String(port) }))
  t.same(await server.exited, { code: 1, signal: null })
  t.equal(server.stderr(), `build-hook: listen EADDRINUSE: address already in use 127.0.0.1:${port}\n`)
  t.match(server.stdout(), /"code":"EADDRINUSE".*"msg":"Start-up failed\."/)
})

t.test('in production, start-up without BEARER_TOKENS fails with exit 1', async t => {
  const server = runTs(t, 'server.ts', [], await serverEnv(t, { NODE_ENV: 'production', BEARER_TOKENS: ' , ' }))
  t.same(await server.exited, { code: 1, signal: null })
  t.equal(server.stderr(), 'build-hook: BEARER_TOKENS is empty: set at least one token (comma separated) when NODE_ENV=production\n')
})

t.test('outside production, a generated token is printed once on stderr and never logged', async t => {
  const server = runTs(t, 'server.ts', [], await serverEnv(t, { BEARER_TOKENS: undefined, NODE_ENV: undefined }))
  await server.waitFor(LISTENING)
  const [, token] = await server.waitFor(/\n {2}([A-Za-z0-9_-]{43})\n/)
  t.equal(server.stderr().split(token!).length - 1, 2, 'the token line and the curl example')
  t.notMatch(server.stdout(), token!, 'the log does not carry it')
  t.match(server.stdout(), /generated a token for this run, shown once on stderr/)
  server.child.kill('SIGTERM')
  t.same(await server.exited, { code: 0, signal: null })
})
