import path from 'node:path'
import t, { type Test } from 'tap'
import { Builder, type BuilderState } from '../../../lib/buildx/builder.js'
import type { BuilderSettings } from '../../../lib/config/index.js'
import type { Log } from '../../../lib/log.js'
import { closedEndpoint, FAKE_BIN, FakeDocker, startBuildkit } from '../../fixtures/docker.js'
import { eventually, tempDir } from '../../helper.js'
import { alive } from '../../process.js'

interface Entry { level: string, obj: object, msg: string | undefined }

function recordingLog (entries: Entry[] = []): Log & { entries: Entry[] } {
  const at = (level: string) => (obj: object, msg?: string) => { entries.push({ level, obj, msg }) }
  return { entries, error: at('error'), warn: at('warn'), info: at('info'), debug: at('debug'), child: () => recordingLog(entries) }
}

function settings (endpoint: string, overrides: Partial<BuilderSettings> = {}): BuilderSettings {
  const base = { name: 'build-hook', endpoint, tls: null, maxConcurrentBuilds: 2, timeoutSeconds: 60, shutdownGraceSeconds: 0, ...overrides }
  return { nodes: [{ name: `${base.name}0`, endpoint: base.endpoint, platforms: [], tls: base.tls }], ...base }
}

function setup (t: Test, options: { path?: string } = {}) {
  const dir = tempDir(t)
  const docker = new FakeDocker(path.join(dir, 'docker'))
  const env = { PATH: options.path ?? `${FAKE_BIN}${path.delimiter}${process.env.PATH ?? ''}`, HOME: dir, DOCKER_CONFIG: docker.configDir }
  const log = recordingLog()
  const make = (builderSettings: BuilderSettings) => {
    const builder = new Builder({ settings: builderSettings, env, log, retry: { initialMs: 20, maxMs: 80 } })
    t.teardown(() => builder.stop())
    return builder
  }
  return { docker, log, make }
}

/** The builder's state once `wanted` holds: awaited as an event, with a generous deadline. */
function untilState (builder: Builder, wanted: (state: BuilderState) => boolean, timeoutMs = 60_000): Promise<BuilderState> {
  if (wanted(builder.state)) return Promise.resolve(builder.state)
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      builder.off('state', onState)
      reject(new Error(`the builder's state is still ${JSON.stringify(builder.state)} after ${timeoutMs} ms`))
    }, timeoutMs)
    const onState = (state: BuilderState) => {
      if (!wanted(state)) return
      clearTimeout(timer)
      builder.off('state', onState)
      resolve(state)
    }
    builder.on('state', onState)
  })
}

t.test('a missing builder is created on the remote driver and bootstrapped', async t => {
  const buildkit = await startBuildkit(t)
  const { docker, log, make } = setup(t)
  const builder = make(settings(buildkit.endpoint))
  t.match(builder.state, { status: 'starting', reason: `bootstrapping builder build-hook at ${buildkit.endpoint}`, bootstrapped: false })
  builder.start()
  await builder.whenReady()
  t.same(docker.commands(), [
    ['buildx', 'ls', '--format', 'json'],
    ['buildx', 'create', '--name', 'build-hook', '--driver', 'remote', buildkit.endpoint],
    ['buildx', 'inspect', '--bootstrap', 'build-hook']
  ])
  t.match(builder.state, { status: 'ready', reason: null, bootstrapped: true })
  const settled = await Promise.race([builder.whenReady().then(() => 'ready'), Promise.resolve().then(() => 'pending')])
  t.equal(settled, 'ready', 'once ready, waiting for it returns at once')
  t.same(log.entries.filter(e => e.level === 'info').map(e => e.msg), ['Created the builder.', 'The builder is ready.'])
  t.same(docker.calls().map(call => call.envKeys), [['DOCKER_CONFIG', 'HOME', 'PATH'], ['DOCKER_CONFIG', 'HOME', 'PATH'], ['DOCKER_CONFIG', 'HOME', 'PATH']], 'a minimal environment')
})

t.test('an existing builder with the same endpoint and options is used as it is', async t => {
  const buildkit = await startBuildkit(t)
  const { docker, make } = setup(t)
  const first = make(settings(buildkit.endpoint))
  first.start()
  await first.whenReady()
  const second = make(settings(buildkit.endpoint))
  second.start()
  await second.whenReady()
  t.same(docker.commands().slice(3), [['buildx', 'ls', '--format', 'json'], ['buildx', 'inspect', '--bootstrap', 'build-hook']])
})

t.test('a builder whose endpoint or TLS options differ is removed and created again', async t => {
  const buildkit = await startBuildkit(t)
  const { docker, log, make } = setup(t)
  docker.control({ deadlineMs: 20 })
  // Created by hand elsewhere with another endpoint.
  const { execFileSync } = await import('node:child_process')
  execFileSync('docker', ['buildx', 'create', '--name', 'build-hook', '--driver', 'remote', 'tcp://10.0.0.1:1234'], { env: { PATH: `${FAKE_BIN}:${process.env.PATH}`, DOCKER_CONFIG: docker.configDir } })
  const tls = { ca: '/certs/ca.pem', cert: '/certs/cert.pem', key: '/certs/key.pem', serverName: 'buildkitd' }
  const builder = make(settings(buildkit.endpoint, { tls }))
  builder.start()
  const state = await untilState(builder, s => s.status === 'unavailable')
  t.same(docker.commands().slice(1, 5), [
    ['buildx', 'ls', '--format', 'json'],
    ['buildx', 'rm', 'build-hook'],
    ['buildx', 'create', '--name', 'build-hook', '--driver', 'remote', '--driver-opt', 'cacert=/certs/ca.pem,cert=/certs/cert.pem,key=/certs/key.pem,servername=buildkitd', buildkit.endpoint],
    ['buildx', 'inspect', '--bootstrap', 'build-hook']
  ])
  t.same(docker.builder('build-hook')!.Nodes[0], { Name: 'build-hook0', Endpoint: buildkit.endpoint, Platforms: null, Flags: null, Files: null, DriverOpts: { cacert: '/certs/ca.pem', cert: '/certs/cert.pem', key: '/certs/key.pem', servername: 'buildkitd' } })
  t.equal(state.reason, 'cannot read the CA certificate /certs/ca.pem (app.builder.tls.ca): no such file or directory', 'the CA file is only read at bootstrap, as buildx does; its deadline is then named by the file')
  t.ok(log.entries.some(e => e.msg === 'Recreating the builder: its nodes, endpoints, platforms or TLS options changed.'))
})

t.test('while BuildKit is unreachable it retries with backoff, logging once, and becomes ready when it is up', async t => {
  const endpoint = await closedEndpoint()
  const { docker, log, make } = setup(t)
  docker.control({ deadlineMs: 30 })
  const builder = make(settings(endpoint))
  builder.start()
  const down = await untilState(builder, s => s.status === 'unavailable')
  t.equal(down.reason, `BuildKit is unreachable at ${endpoint} (context deadline exceeded)`)
  // More tries fail the same way.
  await eventually(() => docker.commands().filter(argv => argv[1] === 'inspect').length >= 3 || undefined, 'three bootstraps')
  t.equal(log.entries.filter(e => e.level === 'warn').length, 1, 'logged once per state change, not once per try')
  const { FakeBuildkit } = await import('../../fixtures/docker.js')
  const buildkit = new FakeBuildkit()
  buildkit.port = Number(new URL(endpoint).port)
  await buildkit.start()
  t.teardown(() => buildkit.stop())
  await builder.whenReady(AbortSignal.timeout(60_000))
  t.match(builder.state, { status: 'ready', bootstrapped: true })
})

t.test('docker missing from PATH keeps the builder unavailable with that reason', async t => {
  const { make } = setup(t, { path: '/nonexistent' })
  const builder = make(settings('tcp://127.0.0.1:1234'))
  builder.start()
  const state = await untilState(builder, s => s.status === 'unavailable')
  t.equal(state.reason, "docker is not installed: no 'docker' executable on PATH")
})

t.test('the buildx plugin missing keeps the builder unavailable with that reason', async t => {
  const { docker, make } = setup(t)
  docker.control({ buildx: false })
  const builder = make(settings('tcp://127.0.0.1:1234'))
  builder.start()
  const state = await untilState(builder, s => s.status === 'unavailable')
  t.equal(state.reason, "the docker buildx plugin is not installed: docker has no 'buildx' command (install your distribution's docker-buildx-plugin package, or put the docker-buildx binary in ~/.docker/cli-plugins/ or, with DOCKER_CONFIG set, in $DOCKER_CONFIG/cli-plugins/)")
})

t.test('a bootstrap that hangs past the attempt timeout counts as unreachable', async t => {
  const endpoint = await closedEndpoint()
  const { docker, log } = setup(t)
  // The bootstrap would hang for an hour; `ls` and `create` before it must fit in the attempt timeout even
  // on a loaded machine, so it is generous (the test takes about that long).
  docker.control({ deadlineMs: 3_600_000 })
  const builder = new Builder({ settings: settings(endpoint), env: { PATH: `${FAKE_BIN}:${process.env.PATH}`, DOCKER_CONFIG: docker.configDir }, log, retry: { initialMs: 60_000 }, attemptTimeoutMs: 5_000 })
  t.teardown(() => builder.stop())
  builder.start()
  const state = await untilState(builder, s => s.status === 'unavailable')
  t.equal(state.reason, `BuildKit is unreachable at ${endpoint} (docker buildx inspect timed out)`)
  const inspect = docker.calls().find(call => call.argv?.[1] === 'inspect')
  t.notOk(alive(inspect!.pid), 'the hanging docker was ended')
})

t.test('stop interrupts a bootstrap in progress and the builder ends stopped', async t => {
  const endpoint = await closedEndpoint()
  const { docker, log } = setup(t)
  // Neither BuildKit's deadline nor the attempt timeout would end this bootstrap within the test's timeout:
  // only stop() interrupting it lets the test finish.
  docker.control({ deadlineMs: 3_600_000 })
  const builder = new Builder({ settings: settings(endpoint), env: { PATH: `${FAKE_BIN}:${process.env.PATH}`, DOCKER_CONFIG: docker.configDir }, log, attemptTimeoutMs: 3_600_000 })
  t.teardown(() => builder.stop())
  builder.start()
  const inspect = await eventually(() => docker.calls().find(call => call.argv?.[1] === 'inspect'), 'the bootstrap to be under way')
  const waiting = builder.whenReady(AbortSignal.timeout(3_600_000))
  await builder.stop()
  t.notOk(alive(inspect.pid), 'the bootstrap in progress was interrupted')
  t.match(builder.state, { status: 'stopped', reason: 'the service is shutting down' })
  builder.start()
  t.equal(builder.state.status, 'stopped', 'a stopped builder does not start again')
  const aborted = new AbortController()
  const pending = builder.whenReady(aborted.signal)
  aborted.abort(new Error('gave up'))
  await t.rejects(pending, { message: 'gave up' })
  await t.rejects(builder.whenReady(AbortSignal.abort(new Error('already'))), { message: 'already' })
  void waiting.catch(() => {})
})

t.test('a build that finds BuildKit gone sends the builder back to bootstrapping', async t => {
  const buildkit = await startBuildkit(t)
  const { docker, make } = setup(t)
  docker.control({ deadlineMs: 20 })
  const builder = make(settings(buildkit.endpoint))
  builder.reportUnavailable('ignored before it was ever ready')
  t.equal(builder.state.status, 'starting')
  builder.start()
  await builder.whenReady()
  // Counted from here: on a busy machine the first bootstrap may itself have needed more than one attempt.
  const inspects = () => docker.commands().filter(argv => argv[1] === 'inspect').length
  const before = inspects()
  builder.reportUnavailable('BuildKit is unreachable at x')
  t.match(builder.state, { status: 'unavailable', reason: 'BuildKit is unreachable at x', bootstrapped: true })
  await builder.whenReady(AbortSignal.timeout(60_000))
  t.ok(inspects() > before, 'bootstrapped again')
})
