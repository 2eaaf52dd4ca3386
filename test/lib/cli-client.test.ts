import { readFileSync, writeFileSync } from 'node:fs'
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import path from 'node:path'
import t, { type Test } from 'tap'
import { buildLogPath } from '../../lib/builds/build-log.js'
import { errorMessage, networkReason } from '../../lib/cli/hook-client.js'
import { cliService, runCli } from '../cli.js'
import { buildIn, eventually, finished, TOKENS, tempDir } from '../helper.js'
import { closedEndpoint } from '../fixtures/docker.js'
import { runTs } from '../process.js'

const COMMIT = 'c'.repeat(40)
const MINUTE = 60_000

/** A server of the test's own (a proxy, a broken service) answering with `handle`; its URL. */
async function fakeService (t: Test, handle: (request: IncomingMessage, response: ServerResponse) => void): Promise<string> {
  const server = createServer(handle)
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
  t.teardown(() => new Promise<void>(resolve => { server.closeAllConnections(); server.close(() => resolve()) }))
  return `http://127.0.0.1:${(server.address() as { port: number }).port}/`
}

t.test('trigger --follow streams the log and exits 0 when the build succeeds', async t => {
  const { client } = await cliService(t)
  const result = await runCli(['trigger', 'demo', '--commit', COMMIT, '--follow'], client)
  t.equal(result.code, 0)
  t.match(result.stdout, /^\[build-hook\] build 1 of demo at c{40} \(attempt 1\)\n/)
  t.match(result.stdout, /\[build-hook\] build 1 succeeded\n$/)
  t.equal(result.stderr, `build 1 of demo at ${COMMIT}: queued\nbuild 1 succeeded\n`)
})

t.test('trigger --follow exits 1 and says why when the build fails', async t => {
  const { client, docker } = await cliService(t)
  docker.control({ images: { 'registry.test/demo/web': { fail: 'push-denied' } } })
  const result = await runCli(['trigger', 'demo', '--commit', COMMIT, '--follow'], client)
  t.equal(result.code, 1)
  t.match(result.stderr, /build 1 failed: registry\.test\/demo\/web: the registry refused the push/)
})

t.test('trigger --follow whose stream the service ends on shutdown says the build is still running, and exits 3', async t => {
  const { app, client, docker, env } = await cliService(t)
  docker.control({ images: { 'registry.test/demo/web': { waitForFile: path.join(env.HOME!, 'never') } } })
  const following = runCli(['trigger', 'demo', '--commit', COMMIT, '--follow'], client)
  await eventually(() => docker.calls().find(call => call.event === 'waiting'), 'the build to be running its step')
  app.builds.live.shutDown({ graceMs: 60_000 }) // what the shutdown's first step does to every follower
  const result = await following
  t.equal(result.code, 3)
  t.match(result.stdout, /\[build-hook\] build-hook is shutting down: this log ends here; build 1 goes on for up to 60 s/)
  t.equal(result.stderr, `build 1 of demo at ${COMMIT}: queued\nbuild 1 is still running: the service ended the log stream (follow it again with: build-hook logs 1 --follow)\n`)
})

t.test('logs --follow whose stream ends on shutdown says the build has no outcome yet when the service is gone by then, and exits 3', async t => {
  let requests = 0
  const url = await fakeService(t, (request, response) => {
    requests++
    if (request.url === '/builds/7/logs?follow=true') return response.end('[build-hook] build 7 of demo at c (attempt 1)\n[build-hook] build-hook is shutting down: this log ends here; build 7 goes on for up to 60 s and is then cancelled (GET /builds/7 has its outcome)\n')
    response.statusCode = 503
    response.end(JSON.stringify({ statusCode: 503, error: 'Service Unavailable', message: 'shutting down' }))
  })
  const result = await runCli(['logs', '7', '--follow'], { HOOK_URL: url, HOOK_TOKEN: 'x' })
  t.equal(requests, 2)
  t.same(result, {
    code: 3,
    stdout: '[build-hook] build 7 of demo at c (attempt 1)\n[build-hook] build-hook is shutting down: this log ends here; build 7 goes on for up to 60 s and is then cancelled (GET /builds/7 has its outcome)\n',
    stderr: 'build 7 is still queued or running: the service ended the log stream (follow it again with: build-hook logs 7 --follow)\n'
  })
  const other = await fakeService(t, (request, response) => {
    if (request.url === '/builds/8/logs?follow=true') return response.end('the stream just ends\n')
    response.statusCode = 503
    response.end(JSON.stringify({ statusCode: 503, error: 'Service Unavailable', message: 'down' }))
  })
  t.same(await runCli(['logs', '8', '--follow'], { HOOK_URL: other, HOOK_TOKEN: 'x' }), { code: 3, stdout: 'the stream just ends\n', stderr: 'build-hook: 503 Service Unavailable: down\n' }, 'without the shutdown line: the service\'s answer')
})

t.test('trigger --follow follows a build that loses BuildKit through its next attempt, printing each line once', async t => {
  const { app, client, docker, buildkit, env } = await cliService(t)
  docker.control({ deadlineMs: 50, images: { 'registry.test/demo/web': { waitForFile: path.join(env.HOME!, 'never') } } })
  const following = runCli(['trigger', 'demo', '--commit', COMMIT, '--follow'], client)
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

t.test('Ctrl-C while following stops following, says the build goes on, exits 130, and leaves the build running', async t => {
  const { app, client, docker, env } = await cliService(t)
  docker.control({ images: { 'registry.test/demo/web': { waitForFile: path.join(env.HOME!, 'gate') } } })
  const result = await runCli(['trigger', 'demo', '--commit', COMMIT, '--follow'], client, {
    onInterrupt: interrupt => {
      void eventually(() => docker.calls().find(call => call.event === 'waiting'), 'the build to be running its step').then(interrupt)
    }
  })
  t.equal(result.code, 130)
  t.match(result.stdout, /^\[build-hook\] build 1 of demo at c{40} \(attempt 1\)\n/)
  t.equal(result.stderr, `build 1 of demo at ${COMMIT}: queued\nbuild 1 goes on; follow it again with: build-hook logs 1 --follow (or stop it with: build-hook cancel 1)\n`)
  t.equal(app.store.get(1)!.status, 'running')
  writeFileSync(path.join(env.HOME!, 'gate'), '')
  t.equal((await finished(app, 1)).status, 'succeeded')
})

t.test('Ctrl-C before the log answers stops as well', async t => {
  let answered = false
  const url = await fakeService(t, () => { answered = true }) // never answers
  const result = await runCli(['logs', '7', '--follow'], { HOOK_URL: url, HOOK_TOKEN: 'x' }, {
    onInterrupt: interrupt => { void eventually(() => answered || undefined, 'the request to arrive').then(interrupt) }
  })
  t.same(result, { code: 130, stdout: '', stderr: 'build 7 goes on; follow it again with: build-hook logs 7 --follow (or stop it with: build-hook cancel 7)\n' })
})

t.test('trigger without --follow returns once the build is queued; a duplicate says so; -o json prints the answer', async t => {
  const { app, client, docker } = await cliService(t)
  // The build holds until the gate exists: the second trigger surely finds it queued or running.
  const gate = `${tempDir(t)}/gate`
  docker.control({ images: { 'registry.test/demo/web': { waitForFile: gate } } })
  t.same(await runCli(['trigger', 'demo', '--commit', COMMIT], client), { code: 0, stdout: '', stderr: `build 1 of demo at ${COMMIT}: queued\n` })
  const again = await runCli(['trigger', 'demo', '--commit', COMMIT.toUpperCase(), '-o', 'json'], client)
  t.match(again.stderr, /^build 1 of demo at c{40}: already (queued|running) \(no second build\)\n$/)
  t.same(JSON.parse(again.stdout), { id: 1, project: 'demo', status: app.store.get(1)!.status, commit: COMMIT, ref: 'refs/heads/main', url: '/builds/1', duplicate: true })
  t.match(again.stdout, /^{\n {2}"id": 1,\n/, 'pretty')
  writeFileSync(gate, '')
  t.equal((await finished(app, 1)).status, 'succeeded')
})

t.test('builds prints aligned columns with a header, newest first; -o json prints the service\'s answer', async t => {
  const { app, client, docker, url } = await cliService(t)
  await runCli(['trigger', 'demo', '--commit', COMMIT], client)
  await finished(app, 1)
  docker.control({ images: { 'registry.test/demo/web': { fail: 'registry-down' } } })
  await runCli(['trigger', 'demo', '--commit', 'd'.repeat(40)], client)
  const failed = await finished(app, 2)
  const now = (): number => Date.parse(failed.createdAt) + 3 * MINUTE
  const duration = (id: number): string => {
    const build = app.store.get(id)!
    return `${Math.floor((Date.parse(build.finishedAt!) - Date.parse(build.startedAt!)) / 1000)}s`
  }
  const list = await runCli(['builds'], client, { now })
  t.equal(list.code, 0)
  t.equal(list.stderr, '')
  const error = 'registry.test/demo/web: the registry is unreachable: pushing registry.test/demo/web:latest failed (connection refused)'
  const rows = [
    ['ID', 'PROJECT', 'STATUS', 'COMMIT', 'SOURCE', 'CREATED', 'DURATION', 'ERROR'],
    ['2', 'demo', 'failed', 'dddddddddddd', 'api', '3m ago', duration(2), error],
    ['1', 'demo', 'succeeded', 'cccccccccccc', 'api', '3m ago', duration(1), '-']
  ]
  const widths = rows[0]!.map((_, column) => Math.max(...rows.map(row => row[column]!.length)))
  t.equal(list.stdout, rows.map(row => row.map((cell, column) => column === row.length - 1 ? cell : cell.padEnd(widths[column]!)).join('   ') + '\n').join(''))
  t.match(list.stdout, /^ID {3}PROJECT {3}STATUS {6}COMMIT {9}SOURCE {3}CREATED {3}DURATION {3}ERROR\n2 {4}demo {6}failed {6}dddddddddddd {3}api {6}3m ago {4}/)
  const json = await runCli(['builds', '--project', 'demo', '--status', 'failed', '--limit', '5', '-o', 'json'], client)
  const direct = await fetch(`${url}/builds?project=demo&status=failed&limit=5`, { headers: { authorization: `Bearer ${TOKENS[0]}` } })
  t.same(json, { code: 0, stdout: `${JSON.stringify(await direct.json(), null, 2)}\n`, stderr: '' })
  t.same(await runCli(['builds', '--status', 'queued'], client), { code: 0, stdout: '', stderr: 'No builds.\n' })
})

t.test('projects prints each project with its last build and what it deployed; -o json prints the answer', async t => {
  const { app, client, url } = await cliService(t)
  const before = await runCli(['projects'], client)
  t.same(before, { code: 0, stdout: 'SLUG   BRANCH   BUILD   STATUS   COMMIT   CREATED   DEPLOYED\ndemo   main     -       -        -        -         -\n', stderr: '' })
  await runCli(['trigger', 'demo', '--commit', COMMIT], client)
  const build = await finished(app, 1)
  const after = await runCli(['projects'], client, { now: () => Date.parse(build.createdAt) + 2 * 3600_000 + 5 * MINUTE })
  t.same(after, { code: 0, stdout: 'SLUG   BRANCH   BUILD   STATUS      COMMIT         CREATED   DEPLOYED\ndemo   main     1       succeeded   cccccccccccc   2h ago    -\n', stderr: '' })
  const direct = await fetch(`${url}/projects`, { headers: { authorization: `Bearer ${TOKENS[0]}` } })
  t.same(await runCli(['projects', '--output', 'json'], client), { code: 0, stdout: `${JSON.stringify(await direct.json(), null, 2)}\n`, stderr: '' })
})

t.test('projects shows the build each project deployed, and how its rollout went unless it succeeded', async t => {
  const at = '2026-11-25T10:00:00.000Z'
  const project = (slug: string, deployed: object | null) => ({ slug, branch: 'main', lastBuild: { id: 9, status: 'succeeded', commit: 'a'.repeat(40), createdAt: at }, deployed })
  const answer = { projects: [project('web', { build: 9, status: 'succeeded' }), project('api', { build: 8, status: 'failed' }), project('docs', null)] }
  const url = await fakeService(t, (_request, response) => { response.end(JSON.stringify(answer)) })
  t.same(await runCli(['projects'], { HOOK_URL: url, HOOK_TOKEN: 'x' }, { now: () => Date.parse(at) + 4 * 86_400_000 }), {
    code: 0,
    stderr: '',
    stdout: [
      'SLUG   BRANCH   BUILD   STATUS      COMMIT         CREATED   DEPLOYED',
      'web    main     9       succeeded   aaaaaaaaaaaa   4d ago    9',
      'api    main     9       succeeded   aaaaaaaaaaaa   4d ago    8 (failed)',
      'docs   main     9       succeeded   aaaaaaaaaaaa   4d ago    -',
      ''
    ].join('\n')
  })
})

t.test('logs prints a build\'s log, or follows it to its end', async t => {
  const { app, client, env } = await cliService(t)
  await runCli(['trigger', 'demo', '--commit', COMMIT], client)
  await finished(app, 1)
  const log = readFileSync(buildLogPath(env.DATA_DIR!, 1), 'utf8')
  t.same(await runCli(['logs', '1'], client), { code: 0, stdout: log, stderr: '' })
  t.same(await runCli(['logs', '1', '-f'], client), { code: 0, stdout: log, stderr: 'build 1 succeeded\n' })
})

t.test('cancel cancels a queued build, interrupts a running one, and refuses a finished one with exit 1', async t => {
  const { app, client, docker, env } = await cliService(t)
  docker.control({ images: { 'registry.test/demo/web': { waitForFile: path.join(env.HOME!, 'never') } } })
  await runCli(['trigger', 'demo', '--commit', COMMIT], client)
  await buildIn(app, 1, ['running'])
  t.same(await runCli(['cancel', '1'], client), { code: 0, stdout: '', stderr: 'build 1 cancelling: its processes are being interrupted\n' })
  t.equal((await finished(app, 1)).status, 'cancelled')
  await runCli(['trigger', 'demo', '--commit', 'd'.repeat(40)], client)
  await buildIn(app, 2, ['running'])
  await runCli(['trigger', 'demo', '--commit', 'e'.repeat(40)], client)
  t.same(await runCli(['cancel', '3', '-o', 'json'], client), { code: 0, stdout: '{\n  "id": 3,\n  "status": "cancelled"\n}\n', stderr: 'build 3 cancelled\n' })
  t.same(await runCli(['cancel', '3'], client), { code: 1, stdout: '', stderr: 'build-hook: 409 Conflict: Build 3 has already finished (cancelled)\n' })
  await runCli(['cancel', '2'], client)
  await finished(app, 2)
})

t.test('a refused request exits 1 with the service\'s message; a refused token, a server error or no service exits 3', async t => {
  const { client } = await cliService(t)
  t.same(await runCli(['logs', '99'], client), { code: 1, stdout: '', stderr: 'build-hook: 404 Not Found: No build 99\n' })
  t.same(await runCli(['logs', '99', '--follow'], client), { code: 1, stdout: '', stderr: 'build-hook: 404 Not Found: No build 99\n' })
  t.same(await runCli(['trigger', 'nosuch'], client), { code: 1, stdout: '', stderr: "build-hook: 404 Not Found: No project 'nosuch'\n" })
  const wrong = await runCli(['builds'], { ...client, HOOK_TOKEN: 'wrong-secret-token' })
  t.same(wrong, { code: 3, stdout: '', stderr: 'build-hook: 401 Unauthorized: the bearer token is not valid (check the token: HOOK_TOKEN, --token-file or --token)\n' })
  t.match(await runCli(['trigger', 'demo'], client), { code: 3, stdout: '', stderr: /^build-hook: 502 Bad Gateway: cannot read https:\/\/git\.test\/org\/demo: / }, 'the branch head of a repository that does not resolve here')
  const down = (await closedEndpoint()).replace('tcp://', 'http://')
  t.same(await runCli(['builds'], { HOOK_URL: down, HOOK_TOKEN: 'x' }), { code: 3, stdout: '', stderr: `build-hook: cannot reach ${down}/: connect ECONNREFUSED ${new URL(down).host}\n` })
})

t.test('the token appears in no output, whatever happens', async t => {
  const { client } = await cliService(t)
  const token = 'secret-token-of-the-test'
  const outputs = [
    await runCli(['builds'], { ...client, HOOK_TOKEN: token }),
    await runCli(['builds', '--token', token], { HOOK_URL: client.HOOK_URL }),
    await runCli(['builds', '--token', token, '--url', 'ftp://x'], {}),
    await runCli(['logs', 'x', '--token', token], client)
  ]
  t.same(outputs.map(output => output.code), [3, 3, 2, 2])
  t.notOk(outputs.some(output => `${output.stdout}${output.stderr}`.includes(token)))
})

t.test('an error page that is not JSON (a proxy in front of the service) is shown as it is; a URL may end in /', async t => {
  const url = await fakeService(t, (_request, response) => { response.writeHead(503, { 'content-type': 'text/plain' }).end('upstream is restarting\n') })
  t.same(await runCli(['builds'], { HOOK_URL: url, HOOK_TOKEN: 'x' }), { code: 3, stdout: '', stderr: 'build-hook: 503 Service Unavailable: upstream is restarting\n' })
  const empty = await fakeService(t, (_request, response) => { response.writeHead(403).end() })
  t.same(await runCli(['builds'], { HOOK_URL: empty, HOOK_TOKEN: 'x' }), { code: 3, stdout: '', stderr: 'build-hook: 403 Forbidden: Forbidden (check the token: HOOK_TOKEN, --token-file or --token)\n' })
})

t.test('a service under a path prefix is asked under it', async t => {
  const paths: string[] = []
  const url = await fakeService(t, (request, response) => { paths.push(`${request.method!} ${request.url!}`); response.end('{"projects":[]}') })
  t.same(await runCli(['projects'], { HOOK_URL: `${url}hook`, HOOK_TOKEN: 'x' }), { code: 0, stdout: '', stderr: 'No projects.\n' })
  t.same(paths, ['GET /hook/projects'])
})

t.test('an answer that is not JSON, or a connection lost mid-answer, means the service cannot serve: exit 3', async t => {
  const html = await fakeService(t, (_request, response) => { response.end('<html>sign in</html>') })
  t.same(await runCli(['builds'], { HOOK_URL: html, HOOK_TOKEN: 'x' }), { code: 3, stdout: '', stderr: `build-hook: ${html} answered builds? with something other than JSON: is it build-hook?\n` })
  const cut = await fakeService(t, (_request, response) => { response.writeHead(200, { 'content-length': '100' }).write('{"bui', () => response.destroy()) })
  t.same(await runCli(['builds'], { HOOK_URL: cut, HOOK_TOKEN: 'x' }), { code: 3, stdout: '', stderr: `build-hook: lost the connection to ${cut}: aborted\n` })
})

t.test('a log stream that breaks says so, then how the build stands', async t => {
  const url = await fakeService(t, (request, response) => {
    if (request.url === '/builds/5/logs?follow=true') response.writeHead(200, { 'content-length': '1000' }).write('#1 step\n', () => response.destroy())
    else response.end(JSON.stringify({ id: 5, status: 'running', error: null }))
  })
  t.same(await runCli(['logs', '5', '--follow'], { HOOK_URL: url, HOOK_TOKEN: 'x' }), {
    code: 3,
    stdout: '#1 step\n',
    stderr: 'build-hook: the log stream of build 5 broke: aborted\nbuild 5 is still running: the service ended the log stream (follow it again with: build-hook logs 5 --follow)\n'
  })
})

t.test('https is checked: a certificate no authority signed is refused', async t => {
  const { createServer: createHttpsServer } = await import('node:https')
  const { execFileSync } = await import('node:child_process')
  const dir = tempDir(t)
  execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', `${dir}/key.pem`, '-out', `${dir}/cert.pem`, '-days', '1', '-subj', '/CN=127.0.0.1'], { stdio: 'ignore' })
  const server = createHttpsServer({ key: readFileSync(`${dir}/key.pem`), cert: readFileSync(`${dir}/cert.pem`) }, (_request, response) => response.end('{}'))
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
  t.teardown(() => new Promise<void>(resolve => server.close(() => resolve())))
  const url = `https://127.0.0.1:${(server.address() as { port: number }).port}/`
  t.same(await runCli(['projects'], { HOOK_URL: url, HOOK_TOKEN: 'x' }), { code: 3, stdout: '', stderr: `build-hook: cannot reach ${url}: self-signed certificate\n` })
})

t.test('what the client says of errors: the reason of every refused address, the message of any error body', async t => {
  t.equal(networkReason(Object.assign(new AggregateError([], ''), { code: 'ECONNREFUSED' })), 'ECONNREFUSED')
  t.equal(networkReason(new Error('socket hang up')), 'socket hang up')
  t.equal(errorMessage('{"statusCode":404,"error":"Not Found","message":"No build 9"}', 'Not Found'), 'No build 9')
  t.equal(errorMessage('{"error":"teapot"}', "I'm a Teapot"), '{"error":"teapot"}')
  t.equal(errorMessage('  ', 'Bad Gateway'), 'Bad Gateway')
})

t.test('the installed command follows a build as a real process, with its exit code', async t => {
  const { client } = await cliService(t)
  const cli = runTs(t, 'bin/build-hook.ts', ['trigger', 'demo', '--commit', COMMIT, '--follow'], client)
  t.same(await cli.exited, { code: 0, signal: null })
  t.match(cli.stdout(), /build 1 succeeded\n$/)
})
