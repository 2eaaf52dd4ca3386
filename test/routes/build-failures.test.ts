import { readFileSync, rmSync, symlinkSync, mkdirSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import t, { type Test } from 'tap'
import { buildLogPath } from '../../lib/builds/build-log.js'
import type { FailureReason } from '../../lib/schemas/build.js'
import { tmpDir } from '../../lib/builds/tmp-dir.js'
import type { FakeDockerControl } from '../fixtures/docker.js'
import { builderReady, configToml, eventually, finished, harness, MINIMAL_CONFIG, TOKENS, writeConfig } from '../helper.js'
import { alive } from '../process.js'

// Each way a build can fail, end to end through the runner with the docker double failing as the real
// tool does (docs/buildx-facts.md): the message a user acts on, the typed reason, and what the hook does
// about it (only BuildKit's own outages touch the builder or run the build again).

const auth = { authorization: `Bearer ${TOKENS[0]}` }
const COMMIT = 'a'.repeat(40)
const REPO = 'https://git.test/org/demo.git'

async function ready (t: Test, toml = MINIMAL_CONFIG) {
  const h = await harness(t, { CONFIG_PATH: writeConfig(t, toml) })
  await builderReady(h.app)
  return h
}

function trigger (app: Awaited<ReturnType<typeof ready>>['app'], commit = COMMIT) {
  return app.inject({ method: 'POST', url: '/demo', headers: auth, payload: { commit } })
}

const failures: Array<[string, FakeDockerControl, FailureReason, string]> = [
  ['the registry refuses the push', { images: { 'registry.test/demo/web': { fail: 'push-denied' } } }, 'push-denied',
    'the registry refused the push of registry.test/demo/web:latest: not authorised (check the registry credentials in the Docker config)'],
  ['the registry is down', { images: { 'registry.test/demo/web': { fail: 'registry-down' } } }, 'push-failed',
    'the registry is unreachable: pushing registry.test/demo/web:latest failed (connection refused)'],
  ['the base image\'s registry is down', { images: { 'registry.test/demo/web': { fail: 'base-image-down' } } }, 'base-image-pull-failed',
    'the base image docker.io/library/alpine:3.20 could not be pulled (connection refused): check the FROM line and that its registry is reachable from BuildKit'],
  ['the base image does not exist', { images: { 'registry.test/demo/web': { fail: 'base-image-missing' } } }, 'base-image-pull-failed',
    'the base image docker.io/library/alpine:3.20 could not be pulled (not found): check the FROM line and that its registry is reachable from BuildKit'],
  ['the Git host is down', { repositories: { [REPO]: { down: true } } }, 'git-fetch-failed',
    `BuildKit could not fetch https://git.test/org/demo: unable to access '${REPO}/': Failed to connect to git.test port 443 after 0 ms: Couldn't connect to server (is the Git host up and reachable from BuildKit?)`],
  ['the repository is private and no token is set', { repositories: { [REPO]: { token: 'secret-token-value' } } }, 'git-auth',
    'BuildKit could not fetch https://git.test/org/demo: authentication required (set [projects.code] token_env, or GIT_TOKEN with the host in GIT_TOKEN_HOSTS)'],
  ['a build step fails', { images: { 'registry.test/demo/web': { fail: 'step' } } }, 'step-failed',
    "build step 'RUN make test' failed with exit code 2: FAIL: TestCheckout (0.00s) | make: *** [Makefile:4: test] Error 2"],
  ['the Dockerfile is not at that commit', { repositories: { [REPO]: { commits: { [COMMIT]: ['README.md'] } } } }, 'dockerfile-not-found',
    "Dockerfile 'Dockerfile' not found in https://git.test/org/demo at commit aaaaaaaaaaaa"],
  ['the commit is not in the repository', { repositories: { [REPO]: { commits: {} } } }, 'commit-not-found',
    `commit ${COMMIT} was not found in https://git.test/org/demo`],
  ['the buildx plugin is gone', { buildx: false }, 'buildx-missing',
    "the docker buildx plugin is not installed: docker has no 'buildx' command (install your distribution's docker-buildx-plugin package, or put the docker-buildx binary in ~/.docker/cli-plugins/ or, with DOCKER_CONFIG set, in $DOCKER_CONFIG/cli-plugins/)"],
  ['buildx exits 0 without writing its metadata', { images: { 'registry.test/demo/web': { metadata: 'missing' } } }, 'no-digest',
    'buildx reported success but wrote no image digest'],
  ['buildx exits 0 with no digest in its metadata', { images: { 'registry.test/demo/web': { metadata: 'no-digest' } } }, 'no-digest',
    'buildx reported success but wrote no image digest']
]

for (const [what, control, reason, message] of failures) {
  t.test(`${what}: the build fails with an error a user can act on (${reason}), and the builder is left alone`, async t => {
    const { app, docker } = await ready(t)
    docker.control(control)
    t.equal((await trigger(app)).statusCode, 202)
    const build = await finished(app, 1)
    t.match(build, { status: 'failed', attempt: 1, retry: null, error: `registry.test/demo/web: ${message}` })
    t.same(build.images.map(image => [image.status, image.digest, image.error, image.reason]), [['failed', null, message, reason]])
    t.equal(app.builder.state.status, 'ready', 'a healthy builder is not reset')
    t.equal(docker.commands().filter(argv => argv[1] === 'inspect').length, 1, 'nor bootstrapped again')
  })
}

t.test('the first image to fail cancels its siblings, which are awaited before the log closes', async t => {
  const { app, docker, env } = await ready(t, configToml([{ images: ['web', 'api'] }]))
  // The sibling would never end by itself: only being cancelled lets this build finish.
  const gate = path.join(env.HOME!, 'fail-now')
  docker.control({ images: { 'registry.test/demo/web': { fail: 'step', waitForFile: gate, lines: 300 }, 'registry.test/demo/api': { hang: true } } })
  await trigger(app)
  await eventually(() => docker.calls().find(call => call.event === 'hanging'), 'the sibling to be building')
  writeFileSync(gate, '')
  const build = await finished(app, 1)
  t.match(build, { status: 'failed', error: /^registry\.test\/demo\/web: build step 'RUN make test' failed with exit code 2: FAIL: TestCheckout .*Error 2$/, deploy: { status: 'skipped' } }, 'explained from the end of a long output')
  t.same(build.images.map(image => [image.status, image.reason, image.error]), [
    ['failed', 'step-failed', build.error!.replace('registry.test/demo/web: ', '')],
    ['cancelled', 'cancelled', 'cancelled: registry.test/demo/web failed']
  ])
  t.same(docker.calls().map(call => call.pid).filter(alive), [], 'no docker process is left')
  const log = readFileSync(buildLogPath(env.DATA_DIR!, 1), 'utf8').trim().split('\n')
  const canceled = log.indexOf('[demo/api] ERROR: failed to build: failed to solve: Canceled: context canceled')
  t.ok(canceled > 0, 'the sibling\'s last words are in the log')
  t.ok(canceled < log.indexOf('[build-hook] registry.test/demo/api: cancelled: cancelled: registry.test/demo/web failed'))
  t.match(log.at(-1), /^\[build-hook\] build 1 failed: registry\.test\/demo\/web: /, 'the log ends after every child has')
})

t.test('a build log that cannot be written (a full disk) fails the build with that reason; the service lives on', async t => {
  const { app, docker, env } = await ready(t)
  docker.control({ images: { 'registry.test/demo/web': { hang: true } } })
  const file = buildLogPath(env.DATA_DIR!, 1)
  mkdirSync(path.dirname(file), { recursive: true })
  symlinkSync('/dev/full', file) // every write fails with ENOSPC
  await trigger(app)
  const build = await finished(app, 1)
  const error = `the build log ${file} could not be written: ENOSPC: no space left on device, write`
  t.match(build, { status: 'failed', error })
  t.match(build.images, [{ status: 'cancelled', reason: 'log-failed', error }])
  t.same(docker.calls().map(call => call.pid).filter(alive), [], 'its docker children were stopped')
  docker.control({})
  await trigger(app, 'b'.repeat(40))
  t.match(await finished(app, 2), { status: 'succeeded' }, 'the next build runs as usual')
})

t.test('an image whose temporary directory cannot be made fails with the reason, and nothing is left running', async t => {
  const { app, env } = await ready(t)
  const tmp = tmpDir(env.DATA_DIR!)
  rmSync(tmp, { recursive: true, force: true })
  writeFileSync(tmp, 'in the way')
  await trigger(app)
  const build = await finished(app, 1)
  t.match(build, { status: 'failed', error: `registry.test/demo/web: the build could not start: EEXIST: file already exists, mkdir '${tmp}'` })
  t.match(build.images, [{ status: 'failed', reason: 'unknown' }])
})

t.test('BuildKit down when a build starts: the build waits for the builder and runs again as attempt 2', async t => {
  const { app, docker, buildkit } = await ready(t)
  docker.control({ deadlineMs: 50 })
  await buildkit!.stop()
  await trigger(app)
  const queued = await eventually(() => { const build = app.store.get(1)!; return build.attempt === 2 ? build : undefined }, 'the build to be queued again')
  t.match(queued, { status: 'queued', retry: { attempt: 1, reason: 'builder-unreachable', error: `registry.test/demo/web: BuildKit is unreachable at ${buildkit!.endpoint} (context deadline exceeded)` } })
  t.equal(app.builder.state.status, 'unavailable')
  await trigger(app, 'b'.repeat(40))
  t.equal(app.store.get(2)!.status, 'queued', 'a newer push waits too')
  t.equal(app.store.get(1)!.status, 'superseded', 'and replaces it: the newest push wins')
  const during = await app.inject({ method: 'GET', url: '/ready' })
  t.equal(during.statusCode, 200, 'once bootstrapped, an outage queues builds instead of failing readiness')
  t.match(during.json().builder, { ready: true, detail: { state: 'unavailable', reason: /^BuildKit is unreachable at / } })
  await buildkit!.start()
  t.match(await finished(app, 2), { status: 'succeeded', attempt: 1 })
})

t.test('BuildKit dying mid-build: the build is queued again as attempt 2, waits for the builder, and succeeds once BuildKit is back', async t => {
  const { app, docker, buildkit, env } = await ready(t)
  const gate = path.join(env.HOME!, 'never')
  docker.control({ deadlineMs: 50, images: { 'registry.test/demo/web': { waitForFile: gate } } })
  await trigger(app)
  await eventually(() => docker.calls().find(call => call.event === 'waiting'), 'the build to be running its step')
  await buildkit!.stop()
  const queued = await eventually(() => { const build = app.store.get(1)!; return build.attempt === 2 ? build : undefined }, 'the build to be queued again')
  const lost = `registry.test/demo/web: the connection to BuildKit at ${buildkit!.endpoint} was lost during the build (error reading from server: EOF)`
  t.match(queued, { status: 'queued', error: null, retry: { attempt: 1, reason: 'builder-connection-lost', error: lost }, images: [{ status: 'pending', reason: null }] })
  t.ok(docker.calls().some(call => call.event === 'builder-lost'), 'buildx ended as it does when buildkitd dies')
  t.match(app.builder.state, { status: 'unavailable', reason: lost.replace('registry.test/demo/web: ', '') })
  docker.control({ deadlineMs: 50 })
  await buildkit!.start()
  const build = await finished(app, 1)
  t.match(build, { status: 'succeeded', attempt: 2, error: null, retry: { attempt: 1, reason: 'builder-connection-lost' }, images: [{ status: 'succeeded', reason: null }] })
  t.equal(docker.builds().length, 2, 'built twice, once per attempt')
  const log = readFileSync(buildLogPath(env.DATA_DIR!, 1), 'utf8')
  t.match(log, `[build-hook] build 1 attempt 1 ended (builder-connection-lost): ${lost}; it runs again as attempt 2 once BuildKit is back\n`)
  t.match(log, /\n\[build-hook\] build 1 of demo at a{40} \(attempt 2\)\n/)
  t.match(log, /\n\[build-hook\] build 1 succeeded\n$/)
})

t.test('a build that loses BuildKit on each of its 3 attempts fails, saying so', async t => {
  const { app, docker, buildkit, env } = await ready(t)
  docker.control({ deadlineMs: 50, images: { 'registry.test/demo/web': { waitForFile: path.join(env.HOME!, 'never') } } })
  await trigger(app)
  // Seen once in CI (not reproduced since, under load either): attempt 3 not running within the deadline.
  // Should it happen again, the failure says where the build and the builder were.
  const where = (err: Error): never => {
    throw new Error(`${err.message}; build: ${JSON.stringify(app.store.get(1))}; builder: ${JSON.stringify(app.builder.state)}; docker: ${docker.calls().map(call => call.event).join(', ')}`)
  }
  for (let attempt = 1; attempt <= 3; attempt++) {
    await eventually(() => docker.calls().filter(call => call.event === 'waiting').length === attempt || undefined, `attempt ${attempt} to be running its step`).catch(where)
    await buildkit!.stop()
    if (attempt < 3) {
      await eventually(() => app.store.get(1)!.attempt === attempt + 1 || undefined, `attempt ${attempt + 1} to be queued`).catch(where)
      await buildkit!.start()
    }
  }
  const build = await finished(app, 1)
  t.match(build, {
    status: 'failed',
    attempt: 3,
    retry: { attempt: 2, reason: 'builder-connection-lost' },
    error: `registry.test/demo/web: the connection to BuildKit at ${buildkit!.endpoint} was lost during the build (error reading from server: EOF); gave up after 3 attempts (BuildKit was unavailable each time)`
  })
  await buildkit!.start()
})
