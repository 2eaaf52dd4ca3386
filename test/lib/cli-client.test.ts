import { readFileSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import t, { type Test } from 'tap'
import { buildLogPath } from '../../lib/builds/build-log.js'
import { main } from '../../lib/cli/main.js'
import { builderReady, eventually, finished, harness, MINIMAL_CONFIG, TOKENS, tempDir, writeConfig } from '../helper.js'
import { closedEndpoint } from '../fixtures/docker.js'
import { runTs } from '../process.js'

const COMMIT = 'c'.repeat(40)

async function run (argv: string[], env: Record<string, string | undefined>): Promise<{ code: number, stdout: string, stderr: string }> {
  let stdout = ''
  let stderr = ''
  const code = await main(argv, { stdout: text => { stdout += text }, stderr: text => { stderr += text }, env })
  return { code, stdout, stderr }
}

/** A listening service with the demo project, and the client's environment for it. */
async function service (t: Test) {
  const h = await harness(t, { CONFIG_PATH: writeConfig(t, MINIMAL_CONFIG) })
  await builderReady(h.app)
  const url = await h.app.listen({ host: '127.0.0.1', port: 0 })
  return { ...h, client: { BUILD_HOOK_URL: url, BUILD_HOOK_TOKEN: TOKENS[0] } }
}

t.test('trigger --follow streams the log and exits 0 when the build succeeds', async t => {
  const { client } = await service(t)
  const result = await run(['trigger', 'demo', '--commit', COMMIT, '--follow'], client)
  t.equal(result.code, 0)
  t.match(result.stdout, /^\[build-hook\] build 1 of demo at c{40} \(attempt 1\)\n/)
  t.match(result.stdout, /\[build-hook\] build 1 succeeded\n$/)
  t.equal(result.stderr, `build 1 of demo at ${COMMIT}: queued\nbuild 1 succeeded\n`)
})

t.test('trigger --follow exits 1 and says why when the build fails', async t => {
  const { client, docker } = await service(t)
  docker.control({ images: { 'registry.test/demo/web': { fail: 'push-denied' } } })
  const result = await run(['trigger', 'demo', '--commit', COMMIT, '--follow'], client)
  t.equal(result.code, 1)
  t.match(result.stderr, /build 1 failed: registry\.test\/demo\/web: the registry refused the push/)
})

t.test('trigger --follow whose stream the service ends on shutdown says the build is still running, and exits 1', async t => {
  const { app, client, docker, env } = await service(t)
  docker.control({ images: { 'registry.test/demo/web': { waitForFile: path.join(env.HOME!, 'never') } } })
  const following = run(['trigger', 'demo', '--commit', COMMIT, '--follow'], client)
  await eventually(() => docker.calls().find(call => call.event === 'waiting'), 'the build to be running its step')
  app.buildx.logs.shutDown({ graceMs: 60_000 }) // what the shutdown's first step does to every follower
  const result = await following
  t.equal(result.code, 1)
  t.match(result.stdout, /\[build-hook\] build-hook is shutting down: this log ends here; build 1 goes on for up to 60 s/)
  t.equal(result.stderr, `build 1 of demo at ${COMMIT}: queued\nbuild 1 is still running: the service ended the log stream (follow it again with: build-hook logs 1 --follow)\n`)
})

t.test('trigger --follow follows a build that loses BuildKit through its next attempt, printing each line once', async t => {
  const { app, client, docker, buildkit, env } = await service(t)
  docker.control({ deadlineMs: 50, images: { 'registry.test/demo/web': { waitForFile: path.join(env.HOME!, 'never') } } })
  const following = run(['trigger', 'demo', '--commit', COMMIT, '--follow'], client)
  await eventually(() => docker.calls().find(call => call.event === 'waiting'), 'the build to be running its step')
  await buildkit!.stop() // buildkitd dies mid-build
  await eventually(() => app.store.get(1)!.attempt === 2 || undefined, 'the build to be queued again')
  docker.control({ deadlineMs: 50 })
  await buildkit!.start()
  const result = await following
  t.equal(result.code, 0)
  // Between the attempts, the stream's own lines (never in the stored log): why it waits, then that it started.
  const own = /^\[build-hook\] (build 1 is queued: |still waiting: |build 1 started \(attempt 2\)$)/
  t.equal(result.stdout.split('\n').filter(line => !own.test(line)).join('\n'), readFileSync(buildLogPath(env.DATA_DIR!, 1), 'utf8'), 'the whole log, each line once')
  t.match(result.stdout, /\[build-hook\] build 1 attempt 1 ended \(builder-connection-lost\): .*\n(\[build-hook\] build 1 is queued: waiting for the builder to come back \(.+\)\n)+\[build-hook\] build 1 started \(attempt 2\)\n\[build-hook\] build 1 of demo at c{40} \(attempt 2\)\n/)
  t.equal(result.stderr, `build 1 of demo at ${COMMIT}: queued\nbuild 1 succeeded\n`)
})

t.test('trigger without --follow returns once the build is queued; a duplicate says so', async t => {
  const { app, client, docker } = await service(t)
  // The build holds until the gate exists: the second trigger surely finds it queued or running.
  const gate = `${tempDir(t)}/gate`
  docker.control({ images: { 'registry.test/demo/web': { waitForFile: gate } } })
  t.same(await run(['trigger', 'demo', '--commit', COMMIT], client), { code: 0, stdout: '', stderr: `build 1 of demo at ${COMMIT}: queued\n` })
  const again = await run(['trigger', 'demo', '--commit', COMMIT], client)
  t.match(again.stderr, /^build 1 of demo at c{40}: already (queued|running) \(no second build\)\n$/)
  await run(['trigger', 'demo', '--commit', 'e'.repeat(40)], client)
  const list = await run(['builds'], client)
  t.match(list.stdout, /^ {5}2 {2}demo {18}queued {6}eeeeeeeeeeee {2}\S+\n {5}1 {2}demo {18}(queued|running) +cccccccccccc /, 'a queued build shows the commit it was triggered for')
  writeFileSync(gate, '')
  t.equal((await finished(app, 1)).status, 'succeeded')
  t.equal((await finished(app, 2)).status, 'succeeded')
})

t.test('builds lists builds newest first; logs prints one, or follows it', async t => {
  const { app, client, docker } = await service(t)
  await run(['trigger', 'demo', '--commit', COMMIT], client)
  await run(['trigger', 'demo', '--commit', 'd'.repeat(40)], client)
  await finished(app, 2)
  const list = await run(['builds', '--project', 'demo', '--limit', '5'], client)
  t.equal(list.code, 0)
  t.match(list.stdout, /^ {5}2 {2}demo {18}succeeded {3}dddddddddddd {2}\S+\n {5}1 {2}demo {18}succeeded {3}cccccccccccc/)
  const log = await run(['logs', '1'], client)
  t.match(log.stdout, /build 1 succeeded\n$/)
  t.equal((await run(['logs', '2', '--follow'], client)).code, 0)
  t.same(await run(['builds', '--status', 'failed'], client), { code: 0, stdout: '', stderr: '' })
  docker.control({ images: { 'registry.test/demo/web': { fail: 'registry-down' } } })
  await run(['trigger', 'demo', '--commit', 'e'.repeat(40)], client)
  await finished(app, 3)
  const failed = await run(['builds', '--status', 'failed'], client)
  t.match(failed.stdout, /^ {5}3 {2}demo {18}failed {6}eeeeeeeeeeee {2}\S+ {2}registry\.test\/demo\/web: the registry is unreachable: pushing registry\.test\/demo\/web:latest failed \(connection refused\)\n$/)
})

t.test('client errors: missing settings, bad usage, refused requests, an unreachable service', async t => {
  const { client } = await service(t)
  t.same(await run(['builds'], {}), { code: 2, stdout: '', stderr: 'build-hook: set BUILD_HOOK_URL (e.g. https://hook.example.com) and BUILD_HOOK_TOKEN (a bearer token)\n' })
  t.same((await run(['trigger'], client)).code, 2)
  t.same(await run(['logs', 'abc'], client), { code: 2, stdout: '', stderr: 'build-hook: a build id is a positive integer\n' })
  t.match(await run(['builds', '--colour'], client), { code: 2, stderr: /^build-hook: Unknown option '--colour'/ })
  t.same(await run(['logs', '99'], client), { code: 1, stdout: '', stderr: 'build-hook: 404 Not Found: No build 99\n' })
  t.same(await run(['builds'], { ...client, BUILD_HOOK_TOKEN: 'wrong' }), { code: 1, stdout: '', stderr: 'build-hook: 401 Unauthorized: the bearer token is not valid\n' })
  t.match(await run(['trigger', 'demo'], client), { code: 1, stderr: /^build-hook: 502 Bad Gateway: cannot read https:\/\/git\.test\/org\/demo: / }, 'the branch head of a repository that does not resolve here')
  t.same(await run(['builds'], { BUILD_HOOK_URL: 'not a url', BUILD_HOOK_TOKEN: 'x' }), { code: 1, stdout: '', stderr: 'build-hook: cannot reach not a url: Invalid URL\n' })
  const down = (await closedEndpoint()).replace('tcp://', 'http://')
  t.match(await run(['builds'], { BUILD_HOOK_URL: down, BUILD_HOOK_TOKEN: 'x' }), { code: 1, stderr: new RegExp(`^build-hook: cannot reach ${down}: connect ECONNREFUSED`) })
})

t.test('an error page that is not JSON (a proxy in front of the service) is shown as it is; a URL may end in /', async t => {
  const http = await import('node:http')
  const proxy = http.createServer((_request, response) => { response.writeHead(503, { 'content-type': 'text/plain' }).end('upstream is restarting') })
  await new Promise<void>(resolve => proxy.listen(0, '127.0.0.1', resolve))
  t.teardown(() => new Promise<void>(resolve => proxy.close(() => resolve())))
  const url = `http://127.0.0.1:${(proxy.address() as { port: number }).port}/`
  t.same(await run(['builds'], { BUILD_HOOK_URL: url, BUILD_HOOK_TOKEN: 'x' }), { code: 1, stdout: '', stderr: 'build-hook: 503 Service Unavailable: upstream is restarting\n' })
})

t.test('the installed command follows a build as a real process, with its exit code', async t => {
  const { client } = await service(t)
  const cli = runTs(t, 'bin/build-hook.ts', ['trigger', 'demo', '--commit', COMMIT, '--follow'], client)
  t.same(await cli.exited, { code: 0, signal: null })
  t.match(cli.stdout(), /build 1 succeeded\n$/)
})
