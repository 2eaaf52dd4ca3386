import t, { type Test } from 'tap'
import { closedEndpoint, FakeBuildkit, startBuildkit } from '../fixtures/docker.js'
import { startGitServer } from '../fixtures/git-server.js'
import { configToml, eventually, finished, harness, tempDir, TOKENS, writeConfig } from '../helper.js'

const auth = { authorization: `Bearer ${TOKENS[0]}` }

/** An app whose builder has an amd64 node (up) and an arm64 node at `arm64`. */
async function twoNodes (t: Test, arm64: string, url?: string) {
  const amd64 = await startBuildkit(t)
  const builder = `[[app.builder.nodes]]\nendpoint = "${amd64.endpoint}"\nplatforms = ["linux/amd64"]\n[[app.builder.nodes]]\nendpoint = "${arm64}"\nplatforms = ["linux/arm64"]\n`
  const h = await harness(t, { CONFIG_PATH: writeConfig(t, configToml([url === undefined ? {} : { url }], builder)), BUILDKIT_HOST: undefined })
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
