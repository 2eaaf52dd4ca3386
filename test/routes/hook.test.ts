import { readFileSync } from 'node:fs'
import { Writable } from 'node:stream'
import t from 'tap'
import { buildLogPath } from '../../lib/builds/build-log.js'
import { builderReady, buildIn, configToml, eventually, finished, harness, MINIMAL_CONFIG, TOKENS, writeConfig } from '../helper.js'
import { startGitServer } from '../fixtures/git-server.js'
import { alive } from '../process.js'
import type { Test } from 'tap'

const auth = { authorization: `Bearer ${TOKENS[0]}` }
const COMMIT = 'a'.repeat(40)
const GIT_TOKEN = 'ghp_s3cretGitT0kenValue1234567890'

function config (options: { url?: string, branch?: string, images?: string[], builder?: string } = {}): string {
  return configToml([{ url: options.url ?? 'https://git.test/org/demo', branch: options.branch, images: options.images }], options.builder)
}

async function ready (t: Test, toml: string, env: Record<string, string | undefined> = {}, logStream?: Writable) {
  const h = await harness(t, { CONFIG_PATH: writeConfig(t, toml), ...env }, logStream === undefined ? {} : { logStream })
  await builderReady(h.app)
  return h
}

function trigger (app: Awaited<ReturnType<typeof ready>>['app'], payload?: object) {
  return app.inject({ method: 'POST', url: '/demo', headers: auth, ...(payload === undefined ? {} : { payload }) })
}

t.test('POST /:slug with a bearer token and a commit builds and pushes every image of the project', async t => {
  const { app, docker, env } = await ready(t, MINIMAL_CONFIG)
  const res = await trigger(app, { commit: COMMIT })
  t.equal(res.statusCode, 202)
  t.same(res.json(), { id: 1, project: 'demo', status: 'queued', commit: COMMIT, ref: 'refs/heads/main', url: '/builds/1' })
  const build = await finished(app, 1)
  t.match(build, {
    status: 'succeeded',
    error: null,
    attempt: 1,
    trigger: { source: 'api', event: 'trigger', delivery: null, ref: 'refs/heads/main', commit: COMMIT, sender: null },
    deploy: { status: 'skipped', namespace: null, resources: [] },
    startedAt: String,
    finishedAt: String
  })
  t.match(build.images, [{ image: 'registry.test/demo/web', tags: ['latest', 'sha-aaaaaaaaaaaa'], status: 'succeeded', digest: /^sha256:[0-9a-f]{64}$/, durationMs: Number, error: null }])
  const pushed = docker.calls().find(call => call.event === 'built')
  t.equal(build.images[0]!.digest, pushed!.digest, 'the digest is the one buildx wrote to its metadata file')
  const [argv] = docker.builds().map(call => call.argv!)
  t.same(argv!.slice(0, 13), ['buildx', 'build', '--builder', 'build-hook', '--progress=plain', '--push', '-t', 'registry.test/demo/web:latest', '-t', 'registry.test/demo/web:sha-aaaaaaaaaaaa', '--label', `org.opencontainers.image.revision=${COMMIT}`, '--label'])
  t.equal(argv!.at(-1), `https://git.test/org/demo.git#${COMMIT}`)
  const log = readFileSync(buildLogPath(env.DATA_DIR!, 1), 'utf8')
  t.match(log, /^\[build-hook\] build 1 of demo at a{40} \(attempt 1\)\n/)
  t.match(log, /\n\[demo\/web\] #0 building with "build-hook" instance using remote driver\n/)
  t.match(log, /\n\[build-hook\] build 1 succeeded\n$/)
})

t.test('a commit in capitals is accepted and recorded in lowercase', async t => {
  const { app } = await ready(t, MINIMAL_CONFIG)
  const res = await trigger(app, { commit: 'ABCDEF'.padEnd(40, '0') })
  t.equal(res.statusCode, 202)
  t.equal(res.json().commit, 'abcdef'.padEnd(40, '0'))
})

t.test('without a commit the branch head is resolved with git ls-remote when the build is recorded', async t => {
  const git = await startGitServer(t, (await import('../helper.js')).tempDir(t))
  const { app, docker } = await ready(t, config({ url: git.url }))
  const res = await trigger(app)
  t.equal(res.statusCode, 202)
  t.equal(res.json().commit, git.heads.main)
  t.equal((await finished(app, 1)).status, 'succeeded')
  t.equal(docker.builds()[0]!.argv!.at(-1), `${git.url}#${git.heads.main}`, 'the build is pinned to that commit')
})

t.test('a branch the repository does not have answers 502 and records nothing', async t => {
  const git = await startGitServer(t, (await import('../helper.js')).tempDir(t))
  const { app } = await ready(t, config({ url: git.url, branch: 'release' }))
  const res = await trigger(app)
  t.equal(res.statusCode, 502)
  t.same(res.json(), { statusCode: 502, error: 'Bad Gateway', message: `branch 'release' was not found in ${git.url}` })
  t.equal(app.store.get(1), null)
})

t.test('without git on the machine, a trigger without a commit answers 500 saying so, and /ready is 503 naming git', async t => {
  const { symlinkSync } = await import('node:fs')
  const path = await import('node:path')
  const { FAKE_BIN } = await import('../fixtures/docker.js')
  const bin = (await import('../helper.js')).tempDir(t)
  symlinkSync(process.execPath, path.join(bin, 'node')) // docker's double runs on node; git is nowhere
  const { app } = await harness(t, { CONFIG_PATH: writeConfig(t, MINIMAL_CONFIG), PATH: `${FAKE_BIN}${path.delimiter}${bin}` })
  const res = await trigger(app)
  t.equal(res.statusCode, 500)
  t.same(res.json(), { statusCode: 500, error: 'Internal Server Error', message: "cannot resolve the branch head: git is not installed: no 'git' executable on PATH" })
  t.equal(app.store.get(1), null)
  const ready = await app.inject({ method: 'GET', url: '/ready' })
  t.equal(ready.statusCode, 503)
  t.match(ready.json(), { status: 'unavailable', reason: "git is not installed: no 'git' executable on PATH", git: { ready: false, reason: "git is not installed: no 'git' executable on PATH" } })
  t.equal((await trigger(app, { commit: COMMIT })).statusCode, 202, 'a trigger naming its commit needs no git')
})

t.test('a private repository: GIT_TOKEN reaches git and BuildKit for a host in GIT_TOKEN_HOSTS, and never argv, logs, records or errors', async t => {
  const git = await startGitServer(t, (await import('../helper.js')).tempDir(t), { token: GIT_TOKEN })
  const host = new URL(git.url).host
  let logged = ''
  const logStream = new Writable({ write (chunk, _encoding, callback) { logged += String(chunk); callback() } })
  const { app, docker, env } = await ready(t, config({ url: git.url }), { GIT_TOKEN, GIT_TOKEN_HOSTS: `github.com, ${host}`, LOG_LEVEL: 'debug' }, logStream)
  docker.control({ images: { 'registry.test/demo/web': { echoSecret: true } }, repositories: { [git.url]: { token: GIT_TOKEN } } })
  const res = await trigger(app)
  t.equal(res.statusCode, 202)
  t.equal(res.json().commit, git.heads.main)
  t.ok(git.requests.authorized > 0, 'git ls-remote sent the token')
  const build = await finished(app, 1)
  t.equal(build.status, 'succeeded', build.error ?? '')
  const [call] = docker.builds()
  t.same(call!.argv!.slice(-5), ['--secret', `id=GIT_AUTH_TOKEN.${host},env=GIT_AUTH_TOKEN`, '-f', 'Dockerfile', `${git.url}#${git.heads.main}`])
  t.same(call!.envKeys, ['DOCKER_CONFIG', 'GIT_AUTH_TOKEN', 'HOME', 'PATH'], 'the token travels in the environment, nothing else of the service does')
  const log = readFileSync(buildLogPath(env.DATA_DIR!, 1), 'utf8')
  t.match(log, /\n\[demo\/web\] #\d+ 0\.044 token is \[redacted\]\n/, 'a step that prints the token is redacted in the build log')
  t.match(logged, 'token is [redacted]', 'and in the debug log')
  for (const [what, text] of [['argv', JSON.stringify(docker.calls())], ['build log', log], ['service log', logged], ['record', JSON.stringify(app.store.get(1))]] as const) {
    t.notMatch(text, GIT_TOKEN, `no token in the ${what}`)
    t.notMatch(text, TOKENS[0], `no bearer token in the ${what}`)
  }
})

t.test('a private repository without a token for its host fails with what to do about it', async t => {
  const git = await startGitServer(t, (await import('../helper.js')).tempDir(t), { token: GIT_TOKEN })
  // GIT_TOKEN is set, but for github.com only (the default GIT_TOKEN_HOSTS): this host gets nothing.
  const { app, docker } = await ready(t, config({ url: git.url }), { GIT_TOKEN })
  docker.control({ repositories: { [git.url]: { token: GIT_TOKEN } } })
  const resolve = await trigger(app)
  t.equal(resolve.statusCode, 502)
  t.same(resolve.json().message, `${git.url} requires authentication (set [projects.code] token_env, or GIT_TOKEN with the host in GIT_TOKEN_HOSTS)`)
  t.equal((await trigger(app, { commit: git.heads.main })).statusCode, 202, 'with a commit, nothing needs resolving')
  const build = await finished(app, 1)
  t.equal(build.error, `registry.test/demo/web: BuildKit could not fetch ${git.url}: authentication required (set [projects.code] token_env, or GIT_TOKEN with the host in GIT_TOKEN_HOSTS)`)
  t.same(git.authorizations.filter(value => value !== null), [], 'the token never reached this host')
})

t.test('the images of a project build concurrently', async t => {
  const { app, docker } = await ready(t, config({ images: ['web', 'api', 'worker'] }))
  // Each build holds in its RUN step until the gate exists: all three holding at once is concurrency.
  const gate = `${(await import('../helper.js')).tempDir(t)}/gate`
  const held = { waitForFile: gate }
  docker.control({ images: { 'registry.test/demo/web': held, 'registry.test/demo/api': held, 'registry.test/demo/worker': held } })
  t.equal((await trigger(app, { commit: COMMIT })).statusCode, 202)
  await eventually(() => docker.calls().filter(call => call.event === 'waiting').length === 3 || undefined, 'all three images to be building at once')
  t.same(docker.calls().filter(call => call.event === 'built'), [], 'none had finished')
  const { writeFileSync } = await import('node:fs')
  writeFileSync(gate, '')
  const build = await finished(app, 1)
  t.equal(build.status, 'succeeded')
  t.same(build.images.map(image => image.status), ['succeeded', 'succeeded', 'succeeded'])
})

// How builds fail, and what the hook does about each failure: test/routes/build-failures.test.ts.

t.test('a project with deployments records its targets when the build is recorded', async t => {
  const { app } = await ready(t, MINIMAL_CONFIG + '\n[projects.deployments]\nnamespace = "demo"\nresources = ["deploy/web", "sts/db"]\n')
  await trigger(app, { commit: COMMIT })
  t.same(app.store.get(1)!.deploy, { status: 'pending', namespace: 'demo', resources: ['deployment/web', 'statefulset/db'], error: null, strategy: null, reason: null, deployedAt: null })
  await finished(app, 1)
})

t.test('a store that fails answers 500 without its internals', async t => {
  const { app } = await ready(t, MINIMAL_CONFIG)
  app.store.close()
  const res = await trigger(app, { commit: COMMIT })
  t.equal(res.statusCode, 500)
  t.same(res.json(), { statusCode: 500, error: 'Internal Server Error', message: 'Internal Server Error' })
})

t.test('a build past timeout_seconds is interrupted, its whole process tree ends, and it fails as timed out', async t => {
  // 3 s: on a busy machine, starting docker and its plugin alone can take a second.
  const { app, docker } = await ready(t, config({ builder: 'timeout_seconds = 3' }))
  docker.control({ images: { 'registry.test/demo/web': { hang: true } } })
  await trigger(app, { commit: COMMIT })
  const build = await finished(app, 1)
  t.equal(build.status, 'failed')
  t.equal(build.error, 'timed out after 3 s')
  t.equal(build.images[0]!.status, 'cancelled')
  const pids = [...new Set(docker.calls().filter(call => call.argv?.includes('build') || call.role === 'buildx-plugin').map(call => call.pid))]
  t.ok(pids.length >= 2, 'docker and its buildx plugin')
  t.same(pids.filter(alive), [], 'none of them is left')
})

t.test('interrupting a build that ignores SIGINT kills its process group after the grace period', async t => {
  const { app, docker } = await ready(t, MINIMAL_CONFIG)
  docker.control({ images: { 'registry.test/demo/web': { hang: true, ignoreInterrupt: true } } })
  await trigger(app, { commit: COMMIT })
  await eventually(() => docker.calls().find(call => call.event === 'hanging'), 'the build to hang')
  const cancel = await app.inject({ method: 'POST', url: '/builds/1/cancel', headers: auth })
  t.same(cancel.json(), { id: 1, status: 'cancelling' }, 'interrupted: it ignores SIGINT')
  const build = await finished(app, 1)
  t.match(build, { status: 'cancelled', error: 'cancelled through the API' })
  t.same(docker.calls().map(call => call.pid).filter(alive), [])
})

t.test('closing the app interrupts running builds and records them cancelled', async t => {
  const { app, docker } = await ready(t, MINIMAL_CONFIG)
  docker.control({ images: { 'registry.test/demo/web': { hang: true } } })
  await trigger(app, { commit: COMMIT })
  await buildIn(app, 1, ['running'])
  await eventually(() => docker.calls().find(call => call.event === 'hanging'), 'the build to hang')
  const store = app.store
  const { BuildStore } = await import('../../lib/store/build-store.js')
  const file = store.file
  await app.close()
  const reopened = new BuildStore(file.replace(/\/build-hook\.sqlite$/, ''))
  t.teardown(() => reopened.close())
  t.match(reopened.get(1), { status: 'cancelled', error: 'cancelled: the service shut down' })
  t.same(docker.calls().map(call => call.pid).filter(alive), [])
})

t.test('the commit must be 40 hex digits and nothing else may be sent', async t => {
  const { app } = await ready(t, MINIMAL_CONFIG)
  const shape = 'the body must be empty or {"commit": "<40 hex>"}'
  const cases: Array<[unknown, string]> = [
    [{ commit: 'abc123' }, `commit must be a full 40-hex SHA: ${shape}`],
    [{ commit: 'g'.repeat(40) }, `commit must be a full 40-hex SHA: ${shape}`],
    [{ commit: 42 }, `commit must be a full 40-hex SHA: ${shape}`],
    [{ commit: COMMIT, branch: 'main' }, shape],
    [[COMMIT], shape],
    ['{"commit": ', `${shape}: it is not valid JSON`]
  ]
  for (const [payload, message] of cases) {
    const res = await app.inject({ method: 'POST', url: '/demo', headers: { ...auth, 'content-type': 'application/json' }, payload: typeof payload === 'string' ? payload : JSON.stringify(payload) })
    t.equal(res.statusCode, 400, JSON.stringify(payload))
    t.same(res.json(), { statusCode: 400, error: 'Bad Request', message }, JSON.stringify(payload))
  }
  t.equal((await trigger(app, {})).statusCode, 502, 'an empty object is a request for the branch head (of a repository that does not resolve here)')
  t.equal(app.store.get(1), null, 'nothing recorded')
})

t.test('an unknown slug is 404 for an authenticated caller and 401 for anyone else', async t => {
  const { app } = await ready(t, MINIMAL_CONFIG)
  const unknown = await app.inject({ method: 'POST', url: '/nosuch', headers: auth })
  t.equal(unknown.statusCode, 404)
  t.same(unknown.json(), { statusCode: 404, error: 'Not Found', message: "No project 'nosuch'" })
  for (const url of ['/nosuch', '/demo']) {
    const res = await app.inject({ method: 'POST', url })
    t.equal(res.statusCode, 401, url)
    t.same(res.json(), { statusCode: 401, error: 'Unauthorized', message: 'missing authorization header: send Authorization: Bearer <token>' })
  }
})

t.test('each state change of a build is one log line carrying buildId and project, the end with its duration', async t => {
  let logged = ''
  const logStream = new Writable({ write (chunk, _encoding, callback) { logged += String(chunk); callback() } })
  const { app } = await ready(t, MINIMAL_CONFIG, { LOG_LEVEL: 'info' }, logStream)
  await trigger(app, { commit: COMMIT })
  await finished(app, 1)
  await eventually(() => logged.includes('Build finished.') || undefined, 'the last line')
  const lines = logged.trim().split('\n').map(line => JSON.parse(line) as Record<string, unknown>).filter(line => line.buildId === 1)
  t.match(lines.map(line => line.msg), ['Build queued.', 'Build started.', 'Image finished.', 'Build finished.'])
  for (const line of lines) t.equal(line.project, 'demo', String(line.msg))
  t.match(lines.at(-1), { status: 'succeeded', durationMs: Number })
  t.notMatch(logged, TOKENS[0])
})
