import { readFileSync } from 'node:fs'
import { Writable } from 'node:stream'
import t, { type Test } from 'tap'
import { buildLogPath } from '../../lib/builds/build-log.js'
import { builderReady, configToml, finished, harness, TOKENS, tempDir, writeConfig } from '../helper.js'
import { startFakeKube, type FakeKube } from '../fixtures/kube-api.js'

const auth = { authorization: `Bearer ${TOKENS[0]}` }
const COMMIT = 'd'.repeat(40)
const RESTARTED_AT = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/

/** The demo project deploying `resources` in namespace demo, against the fake API server. */
async function setup (t: Test, deployments: string, options: { kube?: FakeKube | null, logStream?: Writable } = {}) {
  const kube = options.kube === undefined ? await startFakeKube(t, tempDir(t)) : options.kube
  const toml = configToml([{ slug: 'demo', extra: `[projects.deployments]\nnamespace = "demo"\n${deployments}\n` }])
  const h = await harness(t, { CONFIG_PATH: writeConfig(t, toml), KUBECONFIG: kube?.kubeconfig, LOG_LEVEL: options.logStream === undefined ? 'silent' : 'info' }, options.logStream === undefined ? {} : { logStream: options.logStream })
  await builderReady(h.app)
  const build = async () => {
    const res = await h.app.inject({ method: 'POST', url: '/demo', headers: auth, payload: { commit: COMMIT } })
    t.equal(res.statusCode, 202)
    return finished(h.app, res.json().id as number)
  }
  return { ...h, kube: kube!, build, log: (id: number) => readFileSync(buildLogPath(h.env.DATA_DIR!, id), 'utf8') }
}

t.test('after every image is pushed, a deployment is restarted as kubectl does it and the build waits for its rollout', async t => {
  const { kube, build, log } = await setup(t, 'resources = ["deployment/web"]')
  kube.add('deployments', 'demo', 'web', 3)
  const result = await build()
  t.match(result, { status: 'succeeded', error: null, deploy: { status: 'succeeded', namespace: 'demo', resources: ['deployment/web'], error: null } })
  const [read, patch, ...polls] = kube.requests
  t.same({ ...read, hungUp: undefined }, { hungUp: undefined, method: 'GET', path: '/apis/apps/v1/namespaces/demo/deployments/web', query: {}, contentType: undefined, body: undefined })
  t.match(patch, { method: 'PATCH', path: '/apis/apps/v1/namespaces/demo/deployments/web', query: { fieldManager: 'kubectl-rollout' }, contentType: 'application/strategic-merge-patch+json' })
  t.same(Object.keys(patch!.body as object), ['spec'])
  t.match(patch!.body, { spec: { template: { metadata: { annotations: { 'kubectl.kubernetes.io/restartedAt': RESTARTED_AT } } } } })
  t.same(JSON.stringify(patch!.body).length, JSON.stringify({ spec: { template: { metadata: { annotations: { 'kubectl.kubernetes.io/restartedAt': '2026-11-24T12:48:48Z' } } } } }).length, 'nothing else in the patch')
  t.ok(polls.length >= 5 && polls.every(request => request.method === 'GET'), 'then polled until done')
  t.match(kube.get('deployments', 'demo', 'web'), { metadata: { generation: 2 }, spec: { template: { metadata: { annotations: { 'kubectl.kubernetes.io/restartedAt': RESTARTED_AT } } } } })
  const lines = log(1).split('\n').filter(line => line.startsWith('[deploy]'))
  t.same(lines, [
    '[deploy] deployment/web restarted in namespace demo',
    '[deploy] Waiting for deployment spec update to be observed...',
    '[deploy] Waiting for deployment "web" rollout to finish: 1 out of 3 new replicas have been updated...',
    '[deploy] Waiting for deployment "web" rollout to finish: 1 old replicas are pending termination...',
    '[deploy] Waiting for deployment "web" rollout to finish: 2 of 3 updated replicas are available...',
    '[deploy] deployment "web" successfully rolled out'
  ])
})

t.test('statefulsets and daemonsets get the same patch and are followed to the end of their rollouts', async t => {
  const { kube, build, log } = await setup(t, 'resources = ["sts/db", "daemonset/agent"]')
  kube.add('statefulsets', 'demo', 'db', 3)
  kube.add('daemonsets', 'demo', 'agent', 4)
  t.match(await build(), { status: 'succeeded', deploy: { status: 'succeeded', resources: ['statefulset/db', 'daemonset/agent'] } })
  t.same(kube.requests.filter(request => request.method === 'PATCH').map(request => request.path), ['/apis/apps/v1/namespaces/demo/statefulsets/db', '/apis/apps/v1/namespaces/demo/daemonsets/agent'])
  for (const [kind, name] of [['statefulsets', 'db'], ['daemonsets', 'agent']] as const) {
    t.match(kube.get(kind, 'demo', name), { spec: { template: { metadata: { annotations: { 'kubectl.kubernetes.io/restartedAt': RESTARTED_AT } } } } })
  }
  t.match(log(1), /\[deploy\] statefulset rolling update complete 3 pods at revision db-2\.\.\.\n/)
  t.match(log(1), /\[deploy\] daemon set "agent" successfully rolled out\n/)
})

t.test('a resource that does not exist fails the build, naming it, before any resource is patched', async t => {
  const { kube, build } = await setup(t, 'resources = ["deployment/web", "deployment/api"]')
  kube.add('deployments', 'demo', 'web')
  t.match(await build(), { status: 'failed', error: 'deploy: deployment/api was not found in namespace demo', deploy: { status: 'failed', error: 'deployment/api was not found in namespace demo' } })
  t.same(kube.requests.map(request => `${request.method} ${request.path}`), ['GET /apis/apps/v1/namespaces/demo/deployments/web', 'GET /apis/apps/v1/namespaces/demo/deployments/api'], 'no half rollout: nothing was patched')
  t.match(kube.get('deployments', 'demo', 'web'), { metadata: { generation: 1, annotations: {} } })
})

t.test('a refused read of the second resource also leaves the first unpatched', async t => {
  const { kube, build } = await setup(t, 'resources = ["deployment/web", "statefulset/db"]')
  kube.add('deployments', 'demo', 'web')
  kube.add('statefulsets', 'demo', 'db')
  kube.forbidden.add('get statefulsets')
  t.match(await build(), { status: 'failed', deploy: { error: /^statefulset\/db: reading failed: statefulsets\.apps "db" is forbidden: / } })
  t.same(kube.requests.filter(request => request.method === 'PATCH'), [])
})

t.test("RBAC refusing the patch fails the build with the API's message", async t => {
  const { kube, build } = await setup(t, 'resources = ["deployment/web"]')
  kube.add('deployments', 'demo', 'web')
  kube.forbidden.add('patch deployments')
  t.match(await build(), { status: 'failed', deploy: { status: 'failed', error: 'deployment/web: restarting failed: deployments.apps "web" is forbidden: User "system:serviceaccount:build:build-hook" cannot patch resource "deployments" in API group "apps" in the namespace "demo"' } })
})

t.test('a rollout that does not finish within timeout_seconds fails with the replica counts', async t => {
  const { kube, build } = await setup(t, 'resources = ["deployment/web"]\ntimeout_seconds = 1')
  kube.add('deployments', 'demo', 'web', 2)
  kube.rollout = 'stuck'
  t.match(await build(), { status: 'failed', error: 'deploy: deployment/web: the rollout did not finish within 1 s: Waiting for deployment "web" rollout to finish: 1 out of 2 new replicas have been updated...' })
})

t.test('a deployment past its progress deadline fails at once', async t => {
  const { kube, build } = await setup(t, 'resources = ["deployment/web"]')
  kube.add('deployments', 'demo', 'web')
  kube.rollout = 'deadline'
  t.match(await build(), { status: 'failed', error: 'deploy: deployment/web: deployment "web" exceeded its progress deadline' })
})

t.test('wait = false: restarted, and done without following the rollout', async t => {
  const { kube, build } = await setup(t, 'resources = ["deployment/web"]\nwait = false')
  kube.add('deployments', 'demo', 'web')
  t.match(await build(), { status: 'succeeded', deploy: { status: 'succeeded' } })
  t.same(kube.requests.map(request => request.method), ['GET', 'PATCH'])
})

t.test('a build whose image fails never deploys', async t => {
  const { kube, docker, build } = await setup(t, 'resources = ["deployment/web"]')
  kube.add('deployments', 'demo', 'web')
  docker.control({ images: { 'registry.test/demo/web': { fail: 'step' } } })
  t.match(await build(), { status: 'failed', deploy: { status: 'pending' } })
  t.same(kube.requests, [])
})

t.test('a wrong token is reported; so is a cluster that is not there', async t => {
  const { kube, build } = await setup(t, 'resources = ["deployment/web"]')
  kube.add('deployments', 'demo', 'web')
  const { writeFileSync } = await import('node:fs')
  writeFileSync(kube.kubeconfig, readFileSync(kube.kubeconfig, 'utf8').replace(kube.token, 'not-the-token'))
  t.match(await build(), { status: 'failed', deploy: { error: 'deployment/web: reading failed: HTTP 401' } })
})

t.test('an answer that is not an API Status (a proxy in between) is reported as it came', async t => {
  const { kube, build } = await setup(t, 'resources = ["deployment/web"]')
  kube.plainError = 'upstream connect error or disconnect/reset before headers'
  t.match(await build(), { status: 'failed', deploy: { error: 'deployment/web: reading failed: HTTP 503: upstream connect error or disconnect/reset before headers' } })
})

t.test('without any Kubernetes configuration, start-up warns and the deploy step fails saying what to set', async t => {
  let logged = ''
  const logStream = new Writable({ write (chunk, _encoding, callback) { logged += String(chunk); callback() } })
  const { build } = await setup(t, 'resources = ["deployment/web"]', { kube: null, logStream })
  const { eventually } = await import('../helper.js')
  await eventually(() => logged.includes('no cluster to deploy to') || undefined, 'the warning')
  t.match(logged, /"reason":"no Kubernetes configuration: set KUBECONFIG, or run the hook in a pod with a service account".*"msg":"Projects deploy to Kubernetes, but there is no cluster to deploy to: their deploy steps will fail\."/)
  t.match(await build(), { status: 'failed', deploy: { status: 'failed', error: 'no Kubernetes configuration: set KUBECONFIG, or run the hook in a pod with a service account' } })
})

t.test('cancelling a build while it waits for a rollout records it cancelled', async t => {
  const { app, kube } = await setup(t, 'resources = ["deployment/web"]\ntimeout_seconds = 600')
  kube.add('deployments', 'demo', 'web')
  kube.rollout = 'stuck'
  await app.inject({ method: 'POST', url: '/demo', headers: auth, payload: { commit: COMMIT } })
  const { eventually } = await import('../helper.js')
  await eventually(() => app.store.get(1)!.deploy.status === 'running' || undefined, 'the deploy step')
  await app.inject({ method: 'POST', url: '/builds/1/cancel', headers: auth })
  t.match(await finished(app, 1), { status: 'cancelled', error: 'cancelled through the API', deploy: { status: 'failed', error: 'interrupted' } })
})

/** A build whose deploy step is stuck in its first API call (a GET the API server never answers). */
async function hangingDeploy (t: Test) {
  const h = await setup(t, 'resources = ["deployment/web"]\ntimeout_seconds = 600')
  h.kube.add('deployments', 'demo', 'web')
  h.kube.unresponsive = true
  await h.app.inject({ method: 'POST', url: '/demo', headers: auth, payload: { commit: COMMIT } })
  const { eventually } = await import('../helper.js')
  return { ...h, hanging: await eventually(() => h.kube.requests[0], 'the deploy step to read the deployment') }
}

t.test('cancelling a build while an API call hangs ends the call at once and records it cancelled', async t => {
  const { app, kube, hanging } = await hangingDeploy(t)
  await app.inject({ method: 'POST', url: '/builds/1/cancel', headers: auth })
  await hanging.hungUp // the request was aborted, not left to the API server
  t.match(await finished(app, 1), { status: 'cancelled', error: 'cancelled through the API', deploy: { status: 'failed', error: 'interrupted' } })
  t.equal(kube.requests.length, 1, 'and nothing was sent after it')
})

t.test('shutdown interrupts a deploy whose API call hangs: the call is aborted and the build recorded cancelled', async t => {
  const { app, env, kube, hanging } = await hangingDeploy(t)
  const closed = app.close()
  await hanging.hungUp
  await closed
  t.equal(kube.requests.length, 1)
  const { BuildStore } = await import('../../lib/store/build-store.js')
  const reopened = new BuildStore(env.DATA_DIR!)
  t.teardown(() => reopened.close())
  t.match(reopened.get(1), { status: 'cancelled', error: 'cancelled: the service shut down', deploy: { status: 'failed', error: 'interrupted' } })
})
