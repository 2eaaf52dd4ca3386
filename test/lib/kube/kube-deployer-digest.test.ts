import t, { type Test } from 'tap'
import type { DeploymentSettings } from '../../../lib/config/index.js'
import { loadKubeConfig } from '../../../lib/kube/kube-config.js'
import { type DeployOptions, KubeDeployer } from '../../../lib/kube/kube-deployer.js'
import { startFakeKube, type FakeKube } from '../../fixtures/kube-api.js'
import { eventually, tempDir, within } from '../../helper.js'

const WEB = `sha256:${'a'.repeat(64)}`
const WORKER = `sha256:${'b'.repeat(64)}`
const IMAGES = [{ repository: 'registry.test/demo/web', digest: WEB }, { repository: 'registry.test/demo/worker', digest: WORKER }]
const PINNED_WEB = `registry.test/demo/web@${WEB}`
const PINNED_WORKER = `registry.test/demo/worker@${WORKER}`
const OLD_WORKER = `registry.test/demo/worker@sha256:${'c'.repeat(64)}`

/** A deployer of the fake API server's cluster, deploying by digest in namespace app. */
async function setup (t: Test) {
  const kube = await startFakeKube(t, tempDir(t))
  const deployer = new KubeDeployer({ kubeConfig: () => loadKubeConfig({ KUBECONFIG: kube.kubeconfig }), pollMs: 20 })
  const deploy = async (resources: DeploymentSettings['resources'], settings: Partial<DeploymentSettings> = {}, options: Partial<DeployOptions> = {}) => {
    const lines: string[] = []
    const outcome = await deployer.deploy(
      { namespace: 'app', resources, strategy: 'digest', wait: false, timeoutSeconds: 30, ...settings },
      { signal: new AbortController().signal, onLine: line => lines.push(line), images: IMAGES, ...options }
    )
    return { outcome, lines }
  }
  return { kube, deploy }
}

function patches (kube: FakeKube) {
  return kube.requests.filter(request => request.method === 'PATCH')
}

t.test("a deployment's containers and init containers of the built images are pinned with kubectl set image's request", async t => {
  const { kube, deploy } = await setup(t)
  kube.add('deployments', 'app', 'web', {
    containers: [{ name: 'proxy', image: 'envoyproxy/envoy:v1.31' }, { name: 'web', image: 'registry.test/demo/web:release' }, { name: 'worker', image: OLD_WORKER }],
    initContainers: [{ name: 'wait', image: 'busybox:1.36' }, { name: 'migrate', image: 'registry.test/demo/web:release' }]
  })
  const { outcome, lines } = await deploy([{ kind: 'deployment', name: 'web' }])
  t.same(outcome, { status: 'succeeded', error: null, changed: true })
  t.same(kube.requests.map(request => `${request.method} ${request.path}`), ['GET /apis/apps/v1/namespaces/app/deployments/web', 'PATCH /apis/apps/v1/namespaces/app/deployments/web'])
  const [patch] = patches(kube)
  t.same(patch!.query, { fieldManager: 'kubectl-set' })
  t.equal(patch!.contentType, 'application/strategic-merge-patch+json')
  t.equal(JSON.stringify(patch!.body), '{"spec":{"template":{"spec":{' +
    '"$setElementOrder/containers":[{"name":"proxy"},{"name":"web"},{"name":"worker"}],"$setElementOrder/initContainers":[{"name":"wait"},{"name":"migrate"}],' +
    `"containers":[{"image":"${PINNED_WEB}","name":"web"},{"image":"${PINNED_WORKER}","name":"worker"}],"initContainers":[{"image":"${PINNED_WEB}","name":"migrate"}]}}}}`)
  const object = kube.get('deployments', 'app', 'web')!
  t.same(object.spec.template.spec, {
    containers: [{ name: 'proxy', image: 'envoyproxy/envoy:v1.31' }, { name: 'web', image: PINNED_WEB }, { name: 'worker', image: PINNED_WORKER }],
    initContainers: [{ name: 'wait', image: 'busybox:1.36' }, { name: 'migrate', image: PINNED_WEB }]
  }, 'exactly the digests, no container added, no directive stored')
  t.equal(object.metadata.generation, 2, 'the pod template changed: a rollout starts')
  t.same(lines, [`deployment/web: web=${PINNED_WEB} (was registry.test/demo/web:release), worker=${PINNED_WORKER} (was ${OLD_WORKER}), init container migrate=${PINNED_WEB} (was registry.test/demo/web:release)`])
})

t.test('statefulsets and daemonsets are patched the same way and, with wait, followed to the end of their rollouts', async t => {
  const { kube, deploy } = await setup(t)
  kube.add('statefulsets', 'app', 'db', { replicas: 3, containers: [{ name: 'db', image: 'postgres:16' }, { name: 'backup', image: 'registry.test/demo/worker:latest' }] })
  kube.add('daemonsets', 'app', 'agent', { replicas: 4, containers: [{ name: 'agent', image: 'registry.test/demo/web:latest' }], initContainers: [{ name: 'setup', image: 'registry.test/demo/worker:latest' }] })
  const { outcome, lines } = await deploy([{ kind: 'statefulset', name: 'db' }, { kind: 'daemonset', name: 'agent' }], { wait: true })
  t.same(outcome, { status: 'succeeded', error: null, changed: true })
  t.same(patches(kube).map(request => [request.path, request.query, request.contentType, JSON.stringify(request.body)]), [
    ['/apis/apps/v1/namespaces/app/statefulsets/db', { fieldManager: 'kubectl-set' }, 'application/strategic-merge-patch+json',
      `{"spec":{"template":{"spec":{"$setElementOrder/containers":[{"name":"db"},{"name":"backup"}],"containers":[{"image":"${PINNED_WORKER}","name":"backup"}]}}}}`],
    ['/apis/apps/v1/namespaces/app/daemonsets/agent', { fieldManager: 'kubectl-set' }, 'application/strategic-merge-patch+json',
      `{"spec":{"template":{"spec":{"$setElementOrder/containers":[{"name":"agent"}],"$setElementOrder/initContainers":[{"name":"setup"}],"containers":[{"image":"${PINNED_WEB}","name":"agent"}],"initContainers":[{"image":"${PINNED_WORKER}","name":"setup"}]}}}}`]
  ])
  t.same(kube.get('statefulsets', 'app', 'db')!.spec.template.spec, { containers: [{ name: 'db', image: 'postgres:16' }, { name: 'backup', image: PINNED_WORKER }] })
  t.same(kube.get('daemonsets', 'app', 'agent')!.spec.template.spec, { containers: [{ name: 'agent', image: PINNED_WEB }], initContainers: [{ name: 'setup', image: PINNED_WORKER }] })
  t.same(lines.slice(0, 2), [
    `statefulset/db: backup=${PINNED_WORKER} (was registry.test/demo/worker:latest)`,
    `daemonset/agent: agent=${PINNED_WEB} (was registry.test/demo/web:latest), init container setup=${PINNED_WORKER} (was registry.test/demo/worker:latest)`
  ])
  t.ok(lines.includes('statefulset rolling update complete 3 pods at revision db-2...'), 'the statefulset rolled out')
  t.equal(lines.at(-1), 'daemon set "agent" successfully rolled out')
  t.ok(lines.includes('Waiting for daemon set "agent" rollout to finish: 0 out of 4 new pods have been updated...'), 'through the steps of its rollout')
})

t.test('a deployment rolled out by digest is followed the way a restart is', async t => {
  const { kube, deploy } = await setup(t)
  kube.add('deployments', 'app', 'web', { replicas: 3, containers: [{ name: 'web', image: 'registry.test/demo/web:latest' }] })
  const { outcome, lines } = await deploy([{ kind: 'deployment', name: 'web' }], { wait: true })
  t.same(outcome, { status: 'succeeded', error: null, changed: true })
  t.same(lines, [
    `deployment/web: web=${PINNED_WEB} (was registry.test/demo/web:latest)`,
    'Waiting for deployment spec update to be observed...',
    'Waiting for deployment "web" rollout to finish: 1 out of 3 new replicas have been updated...',
    'Waiting for deployment "web" rollout to finish: 1 old replicas are pending termination...',
    'Waiting for deployment "web" rollout to finish: 2 of 3 updated replicas are available...',
    'deployment "web" successfully rolled out'
  ])
})

t.test('a resource with no container of a built image fails the deploy before any resource is patched, naming it', async t => {
  const { kube, deploy } = await setup(t)
  kube.add('deployments', 'app', 'web', { containers: [{ name: 'web', image: 'registry.test/demo/web:latest' }] })
  kube.add('deployments', 'app', 'api', { containers: [{ name: 'api', image: 'registry.test/demo/api:latest' }], initContainers: [{ name: 'wait', image: 'busybox' }] })
  const { outcome, lines } = await deploy([{ kind: 'deployment', name: 'web' }, { kind: 'deployment', name: 'api' }], { wait: true })
  t.same(outcome, {
    status: 'failed',
    error: 'deployment/api has no container running an image built here (registry.test/demo/web, registry.test/demo/worker): it runs api=registry.test/demo/api:latest, init container wait=busybox',
    changed: false
  })
  t.same(kube.requests.map(request => request.method), ['GET', 'GET'], 'nothing patched at all')
  t.same(kube.get('deployments', 'app', 'web')!.spec.template.spec.containers, [{ name: 'web', image: 'registry.test/demo/web:latest' }])
  t.same(lines, [])
})

t.test('containers already at the digest: no PATCH, nothing changed, and the rollout is done at once', async t => {
  const { kube, deploy } = await setup(t)
  kube.add('deployments', 'app', 'web', { containers: [{ name: 'web', image: PINNED_WEB }], initContainers: [{ name: 'migrate', image: PINNED_WEB }] })
  const { outcome, lines } = await deploy([{ kind: 'deployment', name: 'web' }], { wait: true })
  t.same(outcome, { status: 'succeeded', error: null, changed: false })
  t.same(kube.requests.map(request => request.method), ['GET', 'GET'], 'read, then read once more to see its rollout done')
  t.same(lines, [`deployment/web already runs web=${PINNED_WEB}, init container migrate=${PINNED_WEB}`, 'deployment "web" successfully rolled out'])
  t.equal(kube.get('deployments', 'app', 'web')!.metadata.generation, 1)
})

t.test('the same patch twice changes nothing the second time and starts no rollout', async t => {
  const { kube, deploy } = await setup(t)
  kube.add('deployments', 'app', 'web', { containers: [{ name: 'web', image: 'registry.test/demo/web:latest' }] })
  t.match((await deploy([{ kind: 'deployment', name: 'web' }])).outcome, { status: 'succeeded', changed: true })
  t.equal(kube.get('deployments', 'app', 'web')!.metadata.generation, 2)
  const [patch] = patches(kube)
  t.same(await patchDirectly(kube, 'web', patch!.body), 200)
  t.equal(kube.get('deployments', 'app', 'web')!.metadata.generation, 2, 'same spec: no new generation')
  t.same(kube.get('deployments', 'app', 'web')!.spec.template.spec.containers, [{ name: 'web', image: PINNED_WEB }])
})

t.test('a PATCH the API server refuses leaves changed false; once one went through it is true', async t => {
  const { kube, deploy } = await setup(t)
  kube.add('deployments', 'app', 'web', { containers: [{ name: 'web', image: 'registry.test/demo/web:1' }] })
  kube.add('statefulsets', 'app', 'db', { containers: [{ name: 'db', image: 'registry.test/demo/worker:1' }] })
  kube.forbidden.add('patch deployments')
  t.same((await deploy([{ kind: 'deployment', name: 'web' }, { kind: 'statefulset', name: 'db' }])).outcome, {
    status: 'failed',
    error: 'deployment/web: setting the image failed: deployments.apps "web" is forbidden: User "system:serviceaccount:build:build-hook" cannot patch resource "deployments" in API group "apps" in the namespace "app"',
    changed: false
  })
  kube.forbidden.clear()
  kube.forbidden.add('patch statefulsets')
  t.match((await deploy([{ kind: 'deployment', name: 'web' }, { kind: 'statefulset', name: 'db' }])).outcome, { status: 'failed', error: /^statefulset\/db: setting the image failed: /, changed: true })
})

t.test('restart reports changed as well: false when nothing was patched, true once a restart went out', async t => {
  const { kube, deploy } = await setup(t)
  kube.add('deployments', 'app', 'web')
  t.same((await deploy([{ kind: 'deployment', name: 'api' }], { strategy: 'restart' })).outcome, { status: 'failed', error: 'deployment/api was not found in namespace app', changed: false })
  const { outcome, lines } = await deploy([{ kind: 'deployment', name: 'web' }], { strategy: 'restart' }, { images: undefined })
  t.same(outcome, { status: 'succeeded', error: null, changed: true })
  t.same(lines, ['deployment/web restarted in namespace app'])
  t.same(patches(kube).map(request => request.query), [{ fieldManager: 'kubectl-rollout' }], 'restart keeps its own field manager')
})

t.test('deploying by digest without the images is refused before any API call', async t => {
  const { kube, deploy } = await setup(t)
  kube.add('deployments', 'app', 'web')
  t.same((await deploy([{ kind: 'deployment', name: 'web' }], {}, { images: undefined })).outcome, {
    status: 'failed',
    error: 'deploying by digest needs the images built and their digests, and none were passed to the deploy step',
    changed: false
  })
  t.same(kube.requests, [])
})

t.test('cancelling while the set-image PATCH hangs aborts the call; the cluster may have changed', async t => {
  const { kube, deploy } = await setup(t)
  kube.add('deployments', 'app', 'web', { containers: [{ name: 'web', image: 'registry.test/demo/web:1' }] })
  kube.hanging.add('patch deployments')
  const controller = new AbortController()
  const deploying = deploy([{ kind: 'deployment', name: 'web' }], {}, { signal: controller.signal })
  const hanging = await eventually(() => patches(kube)[0], 'the PATCH')
  controller.abort()
  await within(hanging.hungUp, 'the client to hang up')
  t.same((await deploying).outcome, { status: 'failed', error: 'interrupted', changed: true })
})

t.test('the double catches a wrong patch: a container name the object does not have is ADDED, as the API server does', async t => {
  const { kube } = await setup(t)
  kube.add('deployments', 'app', 'web', { containers: [{ name: 'web', image: 'registry.test/demo/web:1' }] })
  t.equal(await patchDirectly(kube, 'web', { spec: { template: { spec: { containers: [{ image: PINNED_WEB, name: 'app' }] } } } }), 200)
  t.same(kube.get('deployments', 'app', 'web')!.spec.template.spec.containers, [{ name: 'web', image: 'registry.test/demo/web:1' }, { image: PINNED_WEB, name: 'app' }])
  t.equal(await patchDirectly(kube, 'web', { spec: { template: { spec: { '$setElementOrder/containers': [{ name: 'app' }, { name: 'web' }], containers: [{ image: PINNED_WORKER, name: 'web' }] } } } }), 200)
  t.same(kube.get('deployments', 'app', 'web')!.spec.template.spec, { containers: [{ image: PINNED_WEB, name: 'app' }, { name: 'web', image: PINNED_WORKER }] }, 'merged by name, reordered by the directive, which is not stored')
  t.equal(await patchDirectly(kube, 'web', { spec: { template: { spec: { containers: [{ image: PINNED_WEB }] } } } }), 400, 'an element without its merge key is refused')
  t.equal(kube.get('deployments', 'app', 'web')!.metadata.generation, 3)
})

t.test('the double tells the patch types apart: a JSON merge patch replaces the containers list whole', async t => {
  const { kube } = await setup(t)
  kube.add('deployments', 'app', 'web', { containers: [{ name: 'web', image: 'registry.test/demo/web:1' }, { name: 'log', image: 'fluent/fluent-bit:3' }] })
  t.equal(await patchDirectly(kube, 'web', { spec: { template: { spec: { containers: [{ image: PINNED_WEB, name: 'web' }] } } } }, 'MergePatch'), 200)
  t.same(kube.get('deployments', 'app', 'web')!.spec.template.spec.containers, [{ image: PINNED_WEB, name: 'web' }])
  t.equal(await patchDirectly(kube, 'web', { spec: { template: { spec: { '$setElementOrder/containers': [{ name: 'web' }] } } } }, 'MergePatch'), 400, 'and has no directives')
})

/** A strategic-merge patch sent by the test itself, past the deployer: the answer's status code. */
async function patchDirectly (kube: FakeKube, name: string, body: unknown, type: 'StrategicMergePatch' | 'MergePatch' = 'StrategicMergePatch'): Promise<number> {
  const k8s = await import('@kubernetes/client-node')
  const api = (await loadKubeConfig({ KUBECONFIG: kube.kubeconfig })).makeApiClient(k8s.AppsV1Api)
  const options = k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy[type])
  try {
    await api.patchNamespacedDeployment({ name, namespace: 'app', body, fieldManager: 'test' }, options)
    return 200
  } catch (err) {
    return (err as { code: number }).code
  }
}
