import { execFileSync } from 'node:child_process'
import { chmodSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import t, { type Test } from 'tap'
import { Builder, type BuilderState } from '../../../lib/buildx/builder.js'
import type { BuilderNode, BuilderSettings } from '../../../lib/config/index.js'
import type { Log } from '../../../lib/log.js'
import { closedEndpoint, FAKE_BIN, FakeDocker, startBuildkit } from '../../fixtures/docker.js'
import { tempDir, within } from '../../helper.js'

interface Entry { level: string, obj: object, msg: string | undefined }

function recordingLog (entries: Entry[] = []): Log & { entries: Entry[] } {
  const at = (level: string) => (obj: object, msg?: string) => { entries.push({ level, obj, msg }) }
  return { entries, error: at('error'), warn: at('warn'), info: at('info'), debug: at('debug'), child: () => recordingLog(entries) }
}

// buildx reads a node's TLS files whenever it dials it: they exist, or the node is down.
const CERTS = t.testdir({ 'ca.pem': 'a CA certificate', 'cert.pem': 'a client certificate', 'key.pem': 'a client key' })
const CA = path.join(CERTS, 'ca.pem')
const TLS = { ca: CA, cert: null, key: null, serverName: 'arm' }

function node (index: number, endpoint: string, platforms: string[], tls: BuilderNode['tls'] = null): BuilderNode {
  return { name: `build-hook-${index}`, endpoint, platforms, tls }
}

function settings (nodes: BuilderNode[]): BuilderSettings {
  return { name: 'build-hook', endpoint: nodes[0]!.endpoint, tls: nodes[0]!.tls, nodes, maxConcurrentBuilds: 2, timeoutSeconds: 60, shutdownGraceSeconds: 0 }
}

function setup (t: Test, { before = [] as string[] } = {}) {
  const dir = tempDir(t)
  const docker = new FakeDocker(path.join(dir, 'docker'))
  docker.control({ deadlineMs: 30 })
  const env = { PATH: [...before, FAKE_BIN, process.env.PATH ?? ''].join(path.delimiter), HOME: dir, DOCKER_CONFIG: docker.configDir }
  const log = recordingLog()
  const make = (builderSettings: BuilderSettings) => {
    const builder = new Builder({ settings: builderSettings, env, log, retry: { initialMs: 20, maxMs: 80 } })
    t.teardown(() => builder.stop())
    return builder
  }
  /** Creates the builder the way the hook does, as another run of it would have left it. */
  const createByHand = (nodes: BuilderNode[]) => {
    nodes.forEach((n, i) => {
      const opts = n.tls === null ? [] : ['--driver-opt', `cacert=${n.tls.ca!},servername=${n.tls.serverName!}`]
      execFileSync('docker', ['buildx', 'create', '--name', 'build-hook', ...(i === 0 ? ['--driver', 'remote'] : ['--append']), '--node', n.name, '--platform', n.platforms.join(','), ...opts, n.endpoint], { env })
    })
  }
  return { docker, log, make, createByHand }
}

function untilState (builder: Builder, wanted: (state: BuilderState) => boolean): Promise<BuilderState> {
  if (wanted(builder.state)) return Promise.resolve(builder.state)
  return within(new Promise(resolve => {
    const onState = (state: BuilderState) => {
      if (!wanted(state)) return
      builder.off('state', onState)
      resolve(state)
    }
    builder.on('state', onState)
  }), 'the builder\'s state', 60_000)
}

async function twoBuildkits (t: Test) {
  const [amd, arm] = [await startBuildkit(t), await startBuildkit(t)]
  return [node(0, amd.endpoint, ['linux/amd64']), node(1, arm.endpoint, ['linux/arm64', 'linux/arm/v7'], TLS)] as const
}

t.test('a builder of two nodes is created node by node with their platforms, then bootstrapped', async t => {
  const nodes = await twoBuildkits(t)
  const { docker, make } = setup(t)
  docker.control({ deadlineMs: 30 })
  const builder = make(settings([...nodes]))
  t.same(builder.state.nodes.map(n => [n.name, n.status, n.reason]), [
    ['build-hook-0', 'starting', `bootstrapping node build-hook-0 at ${nodes[0].endpoint}`],
    ['build-hook-1', 'starting', `bootstrapping node build-hook-1 at ${nodes[1].endpoint}`]
  ])
  builder.start()
  await untilState(builder, s => s.status !== 'starting')
  t.same(docker.commands().slice(0, 4), [
    ['buildx', 'ls', '--format', 'json'],
    ['buildx', 'create', '--name', 'build-hook', '--driver', 'remote', '--node', 'build-hook-0', '--platform', 'linux/amd64', nodes[0].endpoint],
    ['buildx', 'create', '--name', 'build-hook', '--append', '--node', 'build-hook-1', '--platform', 'linux/arm64,linux/arm/v7', '--driver-opt', `cacert=${CA},servername=arm`, nodes[1].endpoint],
    ['buildx', 'inspect', '--bootstrap', 'build-hook']
  ])
})

t.test('a builder of two reachable nodes is ready, and so is each node', async t => {
  const nodes = [node(0, (await startBuildkit(t)).endpoint, ['linux/amd64']), node(1, (await startBuildkit(t)).endpoint, ['linux/arm64'])]
  const { make } = setup(t)
  const builder = make(settings(nodes))
  builder.start()
  await builder.whenReady(AbortSignal.timeout(60_000))
  t.same(builder.state.nodes, [
    { name: 'build-hook-0', endpoint: nodes[0]!.endpoint, platforms: ['linux/amd64'], status: 'ready', reason: null },
    { name: 'build-hook-1', endpoint: nodes[1]!.endpoint, platforms: ['linux/arm64'], status: 'ready', reason: null }
  ])
})

t.test('an existing builder with the same nodes is used as it is', async t => {
  const nodes = [node(0, (await startBuildkit(t)).endpoint, ['linux/amd64']), node(1, (await startBuildkit(t)).endpoint, ['linux/arm64'])]
  const { docker, make, createByHand } = setup(t)
  createByHand(nodes)
  const builder = make(settings(nodes))
  builder.start()
  await builder.whenReady(AbortSignal.timeout(60_000))
  t.same(docker.commands().slice(2), [['buildx', 'ls', '--format', 'json'], ['buildx', 'inspect', '--bootstrap', 'build-hook']])
})

const CHANGES: Array<[string, (nodes: BuilderNode[], spare: string) => BuilderNode[]]> = [
  ['a node\'s endpoint changed', (nodes, spare) => [nodes[0]!, { ...nodes[1]!, endpoint: spare }]],
  ['a node\'s platforms changed', nodes => [nodes[0]!, { ...nodes[1]!, platforms: ['linux/arm64', 'linux/riscv64'] }]],
  ['a node\'s TLS options changed', nodes => [nodes[0]!, { ...nodes[1]!, tls: TLS }]],
  ['a node was added', (nodes, spare) => [...nodes, node(2, spare, ['linux/ppc64le'])]],
  ['a node was removed', nodes => [nodes[0]!]]
]

for (const [change, changed] of CHANGES) {
  t.test(`the builder is removed and created again when ${change}`, async t => {
    const endpoints = [(await startBuildkit(t)).endpoint, (await startBuildkit(t)).endpoint, (await startBuildkit(t)).endpoint]
    const before = [node(0, endpoints[0]!, ['linux/amd64']), node(1, endpoints[1]!, ['linux/arm64'])]
    const { docker, log, make, createByHand } = setup(t)
    createByHand(before)
    const after = changed(before, endpoints[2]!)
    const builder = make(settings(after))
    builder.start()
    await untilState(builder, s => s.status !== 'starting')
    const commands = docker.commands().slice(before.length)
    t.same(commands.slice(0, 2), [['buildx', 'ls', '--format', 'json'], ['buildx', 'rm', 'build-hook']])
    t.same(commands.slice(2, 3 + after.length).map(argv => argv.slice(0, 9).filter(arg => arg.startsWith('build-hook-'))), [...after.map(n => [n.name]), []], 'every node created again, then bootstrapped')
    t.same((docker.builder('build-hook')!.Nodes as Array<{ Name: string, Endpoint: string }>).map(n => [n.Name, n.Endpoint]), after.map(n => [n.name, n.endpoint]))
    t.ok(log.entries.some(e => e.msg === 'Recreating the builder: its nodes, endpoints, platforms or TLS options changed.'))
  })
}

t.test('one node down makes the builder unavailable, naming that node, the other node ready', async t => {
  const up = await startBuildkit(t)
  const down = await closedEndpoint()
  const { log, make } = setup(t)
  const builder = make(settings([node(0, up.endpoint, ['linux/amd64']), node(1, down, ['linux/arm64'])]))
  builder.start()
  const state = await untilState(builder, s => s.status === 'unavailable')
  t.equal(state.reason, `builder node build-hook-1 (${down}) is unreachable`)
  t.same(state.nodes.map(n => [n.name, n.status, n.reason]), [
    ['build-hook-0', 'ready', null],
    ['build-hook-1', 'unavailable', `BuildKit is unreachable at ${down}`]
  ])
  t.match(log.entries.filter(e => e.level === 'warn'), [{ obj: { reason: `builder node build-hook-1 (${down}) is unreachable` }, msg: 'The builder is unavailable: builds wait until it is back.' }])
})

t.test('two nodes down are both named', async t => {
  const [a, b] = [await closedEndpoint(), await closedEndpoint()]
  const { make } = setup(t)
  const builder = make(settings([node(0, a, ['linux/amd64']), node(1, b, ['linux/arm64'])]))
  builder.start()
  const state = await untilState(builder, s => s.status === 'unavailable')
  t.equal(state.reason, `builder nodes build-hook-0 (${a}), build-hook-1 (${b}) are unreachable`)
})

t.test('a node whose TLS file cannot be read is named with the file and the key that sets it, not as unreachable', async t => {
  const nodes = await twoBuildkits(t)
  const missing = path.join(CERTS, 'missing-ca.pem')
  const { make } = setup(t)
  const builder = make(settings([nodes[0], { ...nodes[1], tls: { ...TLS, ca: missing } }]))
  builder.start()
  const state = await untilState(builder, s => s.status === 'unavailable')
  const reason = `cannot read the CA certificate ${missing} (app.builder.nodes[1].tls.ca): no such file or directory`
  t.equal(state.reason, `builder node build-hook-1 (${nodes[1].endpoint}): ${reason}`)
  t.same(state.nodes.map(n => [n.name, n.status, n.reason]), [['build-hook-0', 'ready', null], ['build-hook-1', 'unavailable', reason]])
})

t.test('a node unreachable and another whose client certificate cannot be read are each named with their own reason', async t => {
  const [down, up] = [await closedEndpoint(), await startBuildkit(t)]
  const missing = path.join(CERTS, 'missing-cert.pem')
  const { make } = setup(t)
  const tls = { ca: CA, cert: missing, key: path.join(CERTS, 'key.pem'), serverName: null }
  const builder = make(settings([node(0, down, ['linux/amd64']), node(1, up.endpoint, ['linux/arm64'], tls)]))
  builder.start()
  const state = await untilState(builder, s => s.status === 'unavailable')
  t.equal(state.reason, `builder node build-hook-0 (${down}) is unreachable; builder node build-hook-1 (${up.endpoint}): cannot read the client certificate ${missing} (app.builder.nodes[1].tls.cert): no such file or directory`)
})

t.test('a bootstrap that failed while every node answers by the time the hook looks keeps buildx\'s reason, and the next try makes it ready', async t => {
  const nodes = [node(0, (await startBuildkit(t)).endpoint, ['linux/amd64']), node(1, (await startBuildkit(t)).endpoint, ['linux/arm64'])]
  // buildx gave up on a node just before it answered (its 20 s deadline): the first `inspect --bootstrap` fails
  // as buildx then does, every later command is the docker double's.
  const late = tempDir(t)
  writeFileSync(path.join(late, 'docker'), `#!/usr/bin/env node
const { spawnSync } = require('node:child_process')
const { existsSync, writeFileSync } = require('node:fs')
const args = process.argv.slice(2)
const marker = ${JSON.stringify(path.join(late, 'gave-up'))}
if (args.join(' ') === 'buildx inspect --bootstrap build-hook' && !existsSync(marker)) {
  writeFileSync(marker, '')
  process.stderr.write('#1 [build-hook-1 internal] waiting for connection\\n#1 ERROR: context deadline exceeded\\nERROR: context deadline exceeded\\n')
  process.exit(1)
}
process.exit(spawnSync(${JSON.stringify(path.join(FAKE_BIN, 'docker'))}, args, { stdio: 'inherit' }).status ?? 1)
`)
  chmodSync(path.join(late, 'docker'), 0o755)
  const { make } = setup(t, { before: [late] })
  const builder = make(settings(nodes))
  builder.start()
  const failed = await untilState(builder, s => s.status === 'unavailable')
  t.equal(failed.reason, `BuildKit is unreachable at one of build-hook-0 (${nodes[0]!.endpoint}), build-hook-1 (${nodes[1]!.endpoint}) (context deadline exceeded)`, 'buildx\'s reason, which names no node, and no node singled out: none is down any more')
  t.same(failed.nodes.map(n => n.status), ['unavailable', 'unavailable'])
  await builder.whenReady(AbortSignal.timeout(60_000))
  t.same(builder.state.nodes.map(n => n.status), ['ready', 'ready'])
})
