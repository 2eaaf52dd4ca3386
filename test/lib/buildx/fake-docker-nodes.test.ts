import { execFile } from 'node:child_process'
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { promisify } from 'node:util'
import t, { type Test } from 'tap'
import { closedEndpoint, FAKE_BIN, FakeDocker, OCI_INDEX, OCI_MANIFEST, runDocker, startBuildkit, type FakeDockerControl } from '../../fixtures/docker.js'
import { eventually, tempDir, within } from '../../helper.js'

// The docker double's builders with several BuildKit nodes, as buildx v0.28 runs them (docs/buildx-facts.md).
const run = promisify(execFile)
const REPO = 'registry.test/demo/web'
const TAG = `${REPO}:release`

function setup (t: Test, control: FakeDockerControl = {}) {
  const dir = tempDir(t)
  const docker = new FakeDocker(path.join(dir, 'docker'))
  docker.control({ deadlineMs: 300, ...control })
  const env = { PATH: `${FAKE_BIN}${path.delimiter}${process.env.PATH ?? ''}`, HOME: dir, DOCKER_CONFIG: docker.configDir }
  const context = path.join(dir, 'context')
  mkdirSync(context)
  writeFileSync(path.join(context, 'Dockerfile'), 'FROM alpine:3.20\nRUN make\n')
  /** Runs the double; resolves with its exit code and output, whatever the code. */
  const dockerRun = (args: string[]) => runDocker(env, args)

  const buildArgs = (platforms: string, metadata = path.join(dir, 'metadata.json')) => [
    'buildx', 'build', '--builder', 'lab', '--platform', platforms, '--progress=plain', '--push', '-t', TAG, '--metadata-file', metadata, context
  ]
  return { dir, docker, env, dockerRun, buildArgs }
}

/** A builder `lab`: lab-0 offering linux/amd64 at `first`, lab-1 offering linux/arm64 at `second`. */
async function twoNodes (dockerRun: ReturnType<typeof setup>['dockerRun'], first: string, second: string) {
  const created = await dockerRun(['buildx', 'create', '--name', 'lab', '--driver', 'remote', '--node', 'lab-0', '--platform', 'linux/amd64', first])
  const appended = await dockerRun(['buildx', 'create', '--name', 'lab', '--append', '--node', 'lab-1', '--platform', 'linux/arm64', second])
  return [created, appended]
}

const lsJson = (stdout: string) => stdout.trim().split('\n').map(line => JSON.parse(line) as { Name: string, Current: boolean, Nodes: Array<{ Name: string, Status: string }> })

t.test('create --append adds a node to the builder, kept in append order with its platforms', async t => {
  const { docker, dockerRun } = setup(t)
  const ran = await twoNodes(dockerRun, 'tcp://127.0.0.1:1001', 'tcp://127.0.0.1:1002')
  t.same(ran.map(r => [r.code, r.stdout, r.stderr]), [[0, 'lab\n', ''], [0, 'lab\n', '']])
  t.same(docker.builder('lab')!.Nodes, [
    { Name: 'lab-0', Endpoint: 'tcp://127.0.0.1:1001', Platforms: [{ architecture: 'amd64', os: 'linux' }], Flags: null, Files: null },
    { Name: 'lab-1', Endpoint: 'tcp://127.0.0.1:1002', Platforms: [{ architecture: 'arm64', os: 'linux' }], Flags: null, Files: null }
  ])
})

t.test('--platform takes comma separated and repeated values, normalized as containerd does', async t => {
  const { docker, dockerRun } = setup(t)
  const ran = await dockerRun(['buildx', 'create', '--name', 'lab', '--driver', 'remote', '--platform', 'linux/aarch64,linux/arm', '--platform', 'linux/x86_64', 'tcp://127.0.0.1:1001'])
  t.equal(ran.code, 0)
  t.same(docker.builder('lab')!.Nodes[0]!.Platforms, [
    { architecture: 'arm64', os: 'linux' }, { architecture: 'arm', os: 'linux', variant: 'v7' }, { architecture: 'amd64', os: 'linux' }
  ])
})

t.test('a platform given to a new node is taken off the nodes that had it', async t => {
  const { docker, dockerRun } = setup(t)
  await dockerRun(['buildx', 'create', '--name', 'lab', '--driver', 'remote', '--platform', 'linux/amd64,linux/arm64', 'tcp://127.0.0.1:1001'])
  await dockerRun(['buildx', 'create', '--name', 'lab', '--append', '--platform', 'linux/arm64', 'tcp://127.0.0.1:1002'])
  t.same(docker.builder('lab')!.Nodes.map(node => [node.Name, node.Platforms]), [
    ['lab0', [{ architecture: 'amd64', os: 'linux' }]],
    ['lab1', [{ architecture: 'arm64', os: 'linux' }]]
  ])
})

t.test('create refuses what buildx refuses, leaving the builder as it was', async t => {
  const { docker, dockerRun } = setup(t)
  await twoNodes(dockerRun, 'tcp://127.0.0.1:1001', 'tcp://127.0.0.1:1002')
  const before = docker.builder('lab')
  const cases: Array<[string[], string]> = [
    [['--append', '--node', 'x', 'tcp://127.0.0.1:1003'], 'ERROR: append requires a builder name'],
    [['--name', 'nosuch', '--append', 'tcp://127.0.0.1:1003'], 'ERROR: failed to find instance "nosuch" for append'],
    [['--name', 'lab', 'tcp://127.0.0.1:1003'], 'ERROR: existing instance for "lab" but no append mode, specify the node name to make changes for existing instances'],
    [['--name', 'lab', '--node', 'lab-2', 'tcp://127.0.0.1:1003'], 'ERROR: node lab-2 not found, did you mean to append?'],
    [['--name', 'lab', '--append', '--node', 'lab-2', 'tcp://127.0.0.1:1001'], 'ERROR: invalid duplicate endpoint tcp://127.0.0.1:1001'],
    [['--name', 'lab', '--append', '--node', '2nd', 'tcp://127.0.0.1:1003'], 'ERROR: invalid name 2nd, name needs to start with a letter and may not contain symbols, except ._-'],
    [['--name', 'lab', '--append', '--platform', 'linux', 'tcp://127.0.0.1:1003'], 'ERROR: "linux": unknown operating system or architecture: invalid argument'],
    [['--name', 'default', '--driver', 'remote', 'tcp://127.0.0.1:1003'], 'ERROR: default is a reserved name and cannot be used to identify builder instance']
  ]
  for (const [args, stderr] of cases) {
    const ran = await dockerRun(['buildx', 'create', ...args])
    t.same([ran.code, ran.stdout, ran.stderr.trimEnd()], [1, '', stderr], args.join(' '))
  }
  t.same(docker.builder('lab'), before)
})

t.test('--append with the name of an existing node changes that node in place, with buildx\'s warning', async t => {
  const { docker, dockerRun } = setup(t)
  await twoNodes(dockerRun, 'tcp://127.0.0.1:1001', 'tcp://127.0.0.1:1002')
  const ran = await dockerRun(['buildx', 'create', '--name', 'lab', '--append', '--node', 'lab-1', '--platform', 'linux/arm/v7', 'tcp://127.0.0.1:1003'])
  t.same([ran.code, ran.stdout, ran.stderr], [0, 'lab\n', 'WARNING: new settings may not be used until builder is restarted\n'])
  t.same(docker.builder('lab')!.Nodes.map(node => [node.Name, node.Endpoint, node.Platforms]), [
    ['lab-0', 'tcp://127.0.0.1:1001', [{ architecture: 'amd64', os: 'linux' }]],
    ['lab-1', 'tcp://127.0.0.1:1003', [{ architecture: 'arm', os: 'linux', variant: 'v7' }]]
  ])
})

t.test('ls --format json lists every node with its status and platforms as strings', async t => {
  const amd = await startBuildkit(t)
  const arm = await closedEndpoint()
  const { dir, dockerRun } = setup(t)
  const ca = path.join(dir, 'ca.pem')
  writeFileSync(ca, 'a CA certificate')
  await dockerRun(['buildx', 'create', '--name', 'lab', '--driver', 'remote', '--node', 'lab-0', '--platform', 'linux/amd64', '--driver-opt', `cacert=${ca}`, amd.endpoint])
  await dockerRun(['buildx', 'create', '--name', 'lab', '--append', '--node', 'lab-1', '--platform', 'linux/arm64,linux/arm/v7', arm])
  const ran = await dockerRun(['buildx', 'ls', '--format', 'json'])
  t.equal(ran.code, 0)
  t.same(lsJson(ran.stdout).map(builder => [builder.Name, builder.Current]), [['lab', false], ['default', true]])
  t.same(lsJson(ran.stdout)[0]!.Nodes, [
    { Name: 'lab-0', Endpoint: amd.endpoint, DriverOpts: { cacert: ca }, Status: 'running', Version: 'v0.24.0', Platforms: ['linux/amd64', 'linux/amd64/v2', 'linux/386'] },
    { Name: 'lab-1', Endpoint: arm, Status: 'inactive', Platforms: ['linux/arm64', 'linux/arm/v7'] }
  ])
})

t.test('a node whose TLS file cannot be read is inactive, and its bootstrap ends at the deadline naming no file', async t => {
  const [amd, arm] = [await startBuildkit(t), await startBuildkit(t)]
  const { dir, dockerRun } = setup(t)
  const missing = path.join(dir, 'missing-ca.pem')
  await dockerRun(['buildx', 'create', '--name', 'lab', '--driver', 'remote', '--node', 'lab-0', '--platform', 'linux/amd64', amd.endpoint])
  await dockerRun(['buildx', 'create', '--name', 'lab', '--append', '--node', 'lab-1', '--platform', 'linux/arm64', '--driver-opt', `cacert=${missing}`, arm.endpoint])
  const listed = await dockerRun(['buildx', 'ls', '--format', 'json'])
  t.same(lsJson(listed.stdout)[0]!.Nodes.map(node => [node.Name, node.Status]), [['lab-0', 'running'], ['lab-1', 'inactive']], 'up, but buildx cannot dial it')
  const booted = await dockerRun(['buildx', 'inspect', '--bootstrap', 'lab'])
  t.equal(booted.code, 1)
  t.match(booted.stderr, /#1 ERROR: context deadline exceeded\nERROR: context deadline exceeded\n$/)
  t.notMatch(booted.stderr, missing)
})

t.test('inspect --bootstrap succeeds once every node answers', async t => {
  const amd = await startBuildkit(t)
  const arm = await startBuildkit(t)
  const { dockerRun } = setup(t, {})
  await twoNodes(dockerRun, amd.endpoint, arm.endpoint)
  const ran = await dockerRun(['buildx', 'inspect', '--bootstrap', 'lab'])
  t.equal(ran.code, 0)
  t.match(ran.stdout, `Name:             lab-1\nEndpoint:         ${arm.endpoint}\nStatus:           running\nBuildKit version: v0.24.0\nPlatforms:        linux/arm64, linux/amd64, linux/amd64/v2, linux/386\n`)
})

t.test('inspect --bootstrap fails after the deadline when one node is unreachable, naming no endpoint', async t => {
  const amd = await startBuildkit(t)
  const arm = await closedEndpoint()
  const { dockerRun } = setup(t)
  await twoNodes(dockerRun, amd.endpoint, arm)
  const started = Date.now()
  const ran = await dockerRun(['buildx', 'inspect', '--bootstrap', 'lab'])
  t.ok(Date.now() - started >= 300, 'not before the deadline')
  t.same([ran.code, ran.stdout, ran.stderr], [1, '', '#1 [internal] waiting for connection\n#1 ERROR: context deadline exceeded\nERROR: context deadline exceeded\n'])
})

t.test('inspect --bootstrap names each node in its progress when several boot', async t => {
  const { dockerRun } = setup(t)
  await twoNodes(dockerRun, await closedEndpoint(), await closedEndpoint())
  const ran = await dockerRun(['buildx', 'inspect', '--bootstrap', 'lab'])
  t.same([ran.code, ran.stderr], [1, [
    '#1 [lab-0 internal] waiting for connection', '#2 [lab-1 internal] waiting for connection',
    '#1 ERROR: context deadline exceeded', '#2 ERROR: context deadline exceeded', 'ERROR: context deadline exceeded', ''
  ].join('\n')])
})

t.test('a multi-platform build sends each platform to its node and pushes one index whose digest the metadata records', async t => {
  const amd = await startBuildkit(t)
  const arm = await startBuildkit(t)
  const { dir, docker, dockerRun, buildArgs } = setup(t)
  await twoNodes(dockerRun, amd.endpoint, arm.endpoint)
  const ran = await dockerRun(buildArgs('linux/amd64,linux/arm64'))
  t.equal(ran.code, 0, ran.stderr)
  t.match(docker.calls().find(call => call.event === 'started'), { nodes: { 'linux/amd64': 'lab-0', 'linux/arm64': 'lab-1' } })
  const images = docker.calls().filter(call => call.event === 'platform-built').map(call => ({ platform: call.platform!, digest: call.digest! }))
  t.same(images.map(image => image.platform), ['linux/amd64', 'linux/arm64'])
  const metadata = JSON.parse(readFileSync(path.join(dir, 'metadata.json'), 'utf8')) as Record<string, unknown>
  const digest = docker.tags().get(TAG)
  t.equal(metadata['containerimage.digest'], digest)
  t.match(metadata, { 'containerimage.descriptor': { mediaType: OCI_INDEX, digest }, 'buildx.build.ref': /^lab\/lab-0\// })
  t.same(docker.manifests(), [
    { repository: REPO, digest: images[0]!.digest, mediaType: OCI_MANIFEST },
    { repository: REPO, digest: images[1]!.digest, mediaType: OCI_MANIFEST },
    { repository: REPO, digest, mediaType: OCI_INDEX, manifests: images }
  ])
})

t.test('a single platform goes to the node that offers it', async t => {
  const amd = await startBuildkit(t)
  const arm = await startBuildkit(t)
  const { docker, dockerRun, buildArgs } = setup(t)
  await twoNodes(dockerRun, amd.endpoint, arm.endpoint)
  const ran = await dockerRun(buildArgs('linux/arm64'))
  t.equal(ran.code, 0, ran.stderr)
  t.same(docker.calls().find(call => call.event === 'started')!.nodes, { 'linux/arm64': 'lab-1' })
})

t.test('a platform no node was created with goes to a node whose BuildKit runs it, once every node is booted', async t => {
  const amd = await startBuildkit(t)
  const arm = await startBuildkit(t)
  const { docker, dockerRun, buildArgs } = setup(t)
  await twoNodes(dockerRun, amd.endpoint, arm.endpoint)
  docker.control({ deadlineMs: 300, workerPlatforms: { [amd.endpoint]: ['linux/amd64'], [arm.endpoint]: ['linux/arm64'] } })
  const ran = await dockerRun(buildArgs('linux/arm/v7,linux/386'))
  t.equal(ran.code, 0, ran.stderr)
  t.same(docker.calls().find(call => call.event === 'started')!.nodes, { 'linux/arm/v7': 'lab-1', 'linux/386': 'lab-0' })
})

t.test('a platform nothing offers goes to the first node, and fails at the first RUN there without QEMU', async t => {
  const amd = await startBuildkit(t)
  const arm = await startBuildkit(t)
  const { docker, dockerRun, buildArgs } = setup(t)
  await twoNodes(dockerRun, amd.endpoint, arm.endpoint)
  const ran = await dockerRun(buildArgs('linux/arm64,linux/s390x'))
  t.equal(ran.code, 1)
  t.same(docker.calls().find(call => call.event === 'started')!.nodes, { 'linux/s390x': 'lab-0', 'linux/arm64': 'lab-1' })
  t.match(ran.stderr, 'exec /bin/sh: exec format error')
  t.equal(ran.stderr.trimEnd().split('\n').at(-1), 'ERROR: failed to build: failed to solve: process "/bin/sh -c make" did not complete successfully: exit code: 1')
  t.same(docker.manifests(), [])
})

t.test('a platform nothing was created with builds on the first node when its BuildKit emulates it', async t => {
  const amd = await startBuildkit(t)
  const arm = await startBuildkit(t)
  const { docker, dockerRun, buildArgs } = setup(t)
  await twoNodes(dockerRun, amd.endpoint, arm.endpoint)
  docker.control({ deadlineMs: 300, workerPlatforms: { [amd.endpoint]: ['linux/amd64', 'linux/s390x'] } })
  const ran = await dockerRun(buildArgs('linux/s390x'))
  t.equal(ran.code, 0, ran.stderr)
  t.same(docker.calls().find(call => call.event === 'started')!.nodes, { 'linux/s390x': 'lab-0' })
})

t.test('a build fails after the deadline when a node it needs is unreachable', async t => {
  const amd = await startBuildkit(t)
  const { docker, dockerRun, buildArgs } = setup(t)
  await twoNodes(dockerRun, amd.endpoint, await closedEndpoint())
  const ran = await dockerRun(buildArgs('linux/amd64,linux/arm64'))
  t.same([ran.code, ran.stderr.trimEnd().split('\n').at(-1)], [1, 'ERROR: failed to build: context deadline exceeded'])
  t.same(docker.calls().filter(call => call.event === 'started'), [])
})

t.test('a build that needs only an answering node runs while another node is down', async t => {
  const amd = await startBuildkit(t)
  const { dockerRun, buildArgs } = setup(t)
  await twoNodes(dockerRun, amd.endpoint, await closedEndpoint())
  const ran = await dockerRun(buildArgs('linux/amd64'))
  t.equal(ran.code, 0, ran.stderr)
})

t.test('a build fails as buildx does when the BuildKit of a node it uses dies mid-build', async t => {
  const amd = await startBuildkit(t)
  const arm = await startBuildkit(t)
  const { dir, docker, dockerRun, buildArgs } = setup(t)
  const gate = path.join(dir, 'gate')
  await twoNodes(dockerRun, amd.endpoint, arm.endpoint)
  docker.control({ deadlineMs: 300, images: { [REPO]: { waitForFile: gate } } })
  t.teardown(() => { if (!existsSync(gate)) writeFileSync(gate, '') })
  const ran = dockerRun(buildArgs('linux/amd64,linux/arm64'))
  await eventually(() => docker.calls().find(call => call.event === 'waiting'), 'the build is running')
  await arm.stop()
  const { code, stderr } = await within(ran, 'the build ends')
  t.same([code, stderr.trimEnd().split('\n').at(-1)], [1, 'ERROR: failed to build: failed to receive status: rpc error: code = Unavailable desc = error reading from server: EOF'])
  t.match(docker.calls().find(call => call.event === 'builder-lost'), { node: 'lab-1' })
  t.same(docker.manifests(), [])
})

t.test('create without an endpoint takes BUILDKIT_HOST, on the remote driver, and fails without either', async t => {
  const { docker, env } = setup(t)
  const created = await run('docker', ['buildx', 'create', '--name', 'lab'], { env: { ...env, BUILDKIT_HOST: 'tcp://127.0.0.1:1001' } })
  t.equal(created.stdout, 'lab\n')
  t.match(docker.builder('lab'), { Driver: 'remote', Nodes: [{ Name: 'lab0', Endpoint: 'tcp://127.0.0.1:1001' }] })
  const failed = await run('docker', ['buildx', 'create', '--name', 'other', '--driver', 'remote'], { env }).catch((error: unknown) => error as { code: number, stderr: string })
  t.same(['code' in failed ? failed.code : 0, failed.stderr], [1, 'ERROR: no remote endpoint provided\n'])
})
