import t, { type Test } from 'tap'
import { closedEndpoint, FakeBuildkit, startBuildkit } from '../fixtures/docker.js'
import { startGitServer } from '../fixtures/git-server.js'
import { configToml, eventually, finished, harness, tempDir, TOKENS, writeConfig } from '../helper.js'

const auth = { authorization: `Bearer ${TOKENS[0]}` }

/** An app whose builder has an amd64 node (up) and an arm64 node at `arm64`; `image` is the project's one image table. */
async function twoNodes (t: Test, arm64: string, url?: string, image?: string) {
  const amd64 = await startBuildkit(t)
  const builder = `[[app.builder.nodes]]\nendpoint = "${amd64.endpoint}"\nplatforms = ["linux/amd64"]\n[[app.builder.nodes]]\nendpoint = "${arm64}"\nplatforms = ["linux/arm64"]\n`
  const project = { ...(url === undefined ? {} : { url }), ...(image === undefined ? {} : { image }) }
  const h = await harness(t, { CONFIG_PATH: writeConfig(t, configToml([project], builder)), BUILDKIT_HOST: undefined })
  h.docker.control({ deadlineMs: 50 })
  return { ...h, amd64: amd64.endpoint }
}

/** Starts BuildKit at an endpoint that was closed. */
async function bringUp (t: Test, endpoint: string): Promise<void> {
  const buildkit = new FakeBuildkit()
  buildkit.port = Number(new URL(endpoint).port)
  await buildkit.start()
  t.teardown(() => buildkit.stop())
}

t.test('GET /ready answers 503 naming the node that never bootstrapped, and lists every node', async t => {
  const arm64 = await closedEndpoint()
  const { app, amd64 } = await twoNodes(t, arm64)
  const reason = `builder node build-hook-1 (${arm64}) is unreachable`
  const res = await eventually(async () => {
    const res = await app.inject({ method: 'GET', url: '/ready' })
    return res.json().reason === reason ? res : undefined
  }, 'the builder to name the node down')
  t.equal(res.statusCode, 503)
  t.same(res.json().builder.detail.nodes, [
    { name: 'build-hook-0', endpoint: amd64, platforms: ['linux/amd64'], status: 'ready', reason: null },
    { name: 'build-hook-1', endpoint: arm64, platforms: ['linux/arm64'], status: 'unavailable', reason: `BuildKit is unreachable at ${arm64}` }
  ])
})

t.test('GET /ready is ready once every node bootstrapped, each node listed ready', async t => {
  const arm64 = (await startBuildkit(t)).endpoint
  const { app, amd64 } = await twoNodes(t, arm64)
  const res = await eventually(async () => {
    const res = await app.inject({ method: 'GET', url: '/ready' })
    return res.statusCode === 200 ? res : undefined
  }, 'the builder to be ready')
  t.match(res.json().builder, { ready: true, detail: { name: 'build-hook', endpoint: amd64, state: 'ready' } })
  t.same(res.json().builder.detail.nodes, [
    { name: 'build-hook-0', endpoint: amd64, platforms: ['linux/amd64'], status: 'ready', reason: null },
    { name: 'build-hook-1', endpoint: arm64, platforms: ['linux/arm64'], status: 'ready', reason: null }
  ])
})

t.test('GET /metrics has build_hook_builder_node_up for each node: 1 up, 0 down', async t => {
  const arm64 = await closedEndpoint()
  const { app, amd64 } = await twoNodes(t, arm64)
  const text = await eventually(async () => {
    const res = await app.inject({ method: 'GET', url: '/metrics', headers: auth })
    return res.body.includes(`build_hook_builder_node_up{builder="build-hook",node="build-hook-1",endpoint="${arm64}"} 0`) &&
      res.body.includes(`build_hook_builder_node_up{builder="build-hook",node="build-hook-0",endpoint="${amd64}"} 1`)
      ? res.body
      : undefined
  }, 'a node up and a node down')
  t.match(text, '# TYPE build_hook_builder_node_up gauge')
})

t.test('a build waits queued while a node is down and runs once it is back', async t => {
  const arm64 = await closedEndpoint()
  const git = await startGitServer(t, tempDir(t))
  const { app } = await twoNodes(t, arm64, git.url)
  await eventually(async () => (await app.inject({ method: 'GET', url: '/ready' })).json().reason === `builder node build-hook-1 (${arm64}) is unreachable` || undefined, 'the node down')
  const res = await app.inject({ method: 'POST', url: '/demo', headers: auth })
  t.equal(res.statusCode, 202, res.body)
  const id = res.json().id as number
  t.equal(app.store.get(id)!.status, 'queued')
  await bringUp(t, arm64)
  t.equal((await finished(app, id)).status, 'succeeded')
})

t.test('a single endpoint\'s /ready lists no nodes, as before', async t => {
  const { app } = await harness(t)
  const res = await eventually(async () => {
    const res = await app.inject({ method: 'GET', url: '/ready' })
    return res.statusCode === 200 ? res : undefined
  }, 'the builder to be ready')
  t.notOk('nodes' in res.json().builder.detail)
})

t.test('an image for two platforms is one buildx build across both nodes, recorded with the digest of its image index', async t => {
  const arm64 = (await startBuildkit(t)).endpoint
  const image = 'location = "Dockerfile"\ntag = "latest"\nplatforms = ["linux/amd64", "linux/arm64"]'
  const { app, docker, amd64 } = await twoNodes(t, arm64, undefined, image)
  docker.control({ deadlineMs: 50, workerPlatforms: { [arm64]: ['linux/arm64'] } })
  await eventually(async () => (await app.inject({ method: 'GET', url: '/ready' })).statusCode === 200 || undefined, 'the builder to be ready')
  const res = await app.inject({ method: 'POST', url: '/demo', headers: { ...auth, 'content-type': 'application/json' }, payload: { commit: 'c'.repeat(40) } })
  t.equal(res.statusCode, 202, res.body)
  const build = await finished(app, res.json().id as number)
  t.equal(build.status, 'succeeded', build.error ?? '')
  const builds = docker.builds()
  t.equal(builds.length, 1, 'one buildx build for both platforms')
  const argv = builds[0]!.argv!
  t.equal(argv[argv.indexOf('--platform') + 1], 'linux/amd64,linux/arm64')
  t.equal(argv[argv.indexOf('--builder') + 1], 'build-hook')
  const started = docker.calls().find(call => call.event === 'started') as { nodes?: Record<string, string> } | undefined
  t.same(started?.nodes, { 'linux/amd64': 'build-hook-0', 'linux/arm64': 'build-hook-1' }, 'each platform built by the node that has it')
  const index = docker.manifests().find(manifest => manifest.digest === build.images[0]!.digest)
  t.ok(index, 'the recorded digest is in the registry')
  t.same(index!.manifests?.map(entry => entry.platform), ['linux/amd64', 'linux/arm64'], 'an image index with one manifest per platform')
  t.not(amd64, arm64)
})

t.test('a build that loses a node of several says the builder lost one of them, naming every node', async t => {
  const arm64 = await startBuildkit(t)
  const git = await startGitServer(t, tempDir(t))
  const image = 'location = "Dockerfile"\ntag = "latest"\nplatforms = ["linux/amd64", "linux/arm64"]'
  const { app, docker, amd64, env } = await twoNodes(t, arm64.endpoint, git.url, image)
  const gate = `${env.HOME!}/never`
  docker.control({ deadlineMs: 50, workerPlatforms: { [arm64.endpoint]: ['linux/arm64'] }, images: { 'registry.test/demo/web': { waitForFile: gate } } })
  await eventually(async () => (await app.inject({ method: 'GET', url: '/ready' })).statusCode === 200 || undefined, 'the builder to be ready')
  const res = await app.inject({ method: 'POST', url: '/demo', headers: { ...auth, 'content-type': 'application/json' }, payload: { commit: 'c'.repeat(40) } })
  const id = res.json().id as number
  await eventually(() => docker.calls().find(call => call.event === 'waiting'), 'the build to be running its step')
  await arm64.stop()
  const record = await eventually(() => {
    const build = app.store.get(id)!
    return build.attempt === 2 ? build : undefined
  }, 'the build to be queued again')
  t.equal(record.status, 'queued', 'queued again, not failed')
  const log = await app.inject({ method: 'GET', url: `/builds/${id}/logs`, headers: auth })
  t.match(log.body, `the connection to BuildKit at one of build-hook-0 (${amd64}), build-hook-1 (${arm64.endpoint}) was lost during the build`)
  await app.inject({ method: 'POST', url: `/builds/${id}/cancel`, headers: auth })
  await finished(app, id)
})
