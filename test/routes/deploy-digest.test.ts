import { readFileSync } from 'node:fs'
import t, { type Test } from 'tap'
import { buildLogPath } from '../../lib/builds/build-log.js'
import { newBuild } from '../../lib/builds/new-build.js'
import type { BuildRecord } from '../../lib/schemas/build.js'
import { builderReady, buildOf, configToml, eventually, finished, harness, TOKENS, tempDir, writeConfig } from '../helper.js'
import { startFakeKube } from '../fixtures/kube-api.js'

// strategy = "digest" through the real app: what a push leaves in the workloads, and that an older build
// never deploys over a newer one (docs/contract.md "Deploy by digest", "Never deploy backwards").

const auth = { authorization: `Bearer ${TOKENS[0]}` }
const commit = (c: string) => c.repeat(40)
const WEB = 'registry.test/demo/web'
const WORKER = 'registry.test/demo/worker'

async function setup (t: Test, resources = '["deployment/web", "statefulset/jobs"]') {
  const kube = await startFakeKube(t, tempDir(t))
  kube.add('deployments', 'demo', 'web', {
    replicas: 2,
    initContainers: [{ name: 'migrate', image: `${WORKER}:latest` }],
    containers: [{ name: 'web', image: `${WEB}:latest` }, { name: 'proxy', image: 'nginx:1.27' }]
  })
  kube.add('statefulsets', 'demo', 'jobs', { replicas: 1, containers: [{ name: 'worker', image: `${WORKER}@sha256:${'0'.repeat(64)}` }] })
  const toml = configToml([{ slug: 'demo', images: ['web', 'worker'], extra: `[projects.deployments]\nnamespace = "demo"\nresources = ${resources}\nstrategy = "digest"\n` }])
  const h = await harness(t, { CONFIG_PATH: writeConfig(t, toml), KUBECONFIG: kube.kubeconfig })
  await builderReady(h.app)
  const build = (c: string): Promise<BuildRecord> => buildOf(t, h.app, 'demo', commit(c))
  return { ...h, kube, build }
}

const digestOf = (build: BuildRecord, image: string) => build.images.find(entry => entry.image === image)!.digest!

t.test('after a push, every container and init container of a built image runs exactly the digest pushed', async t => {
  const { app, kube, build, env } = await setup(t)
  const built = await build('a')
  t.match(built, { status: 'succeeded', deploy: { status: 'succeeded', strategy: 'digest', reason: null, deployedAt: String } })
  const web = kube.get('deployments', 'demo', 'web')!
  t.same(web.spec.template.spec.containers, [{ name: 'web', image: `${WEB}@${digestOf(built, WEB)}` }, { name: 'proxy', image: 'nginx:1.27' }], 'the other image is left alone')
  t.same(web.spec.template.spec.initContainers, [{ name: 'migrate', image: `${WORKER}@${digestOf(built, WORKER)}` }])
  t.same(kube.get('statefulsets', 'demo', 'jobs')!.spec.template.spec.containers, [{ name: 'worker', image: `${WORKER}@${digestOf(built, WORKER)}` }], 'an old digest is replaced')
  const patches = kube.requests.filter(request => request.method === 'PATCH')
  t.same(patches.map(request => request.query), [{ fieldManager: 'kubectl-set' }, { fieldManager: 'kubectl-set' }])
  t.same(patches.map(request => request.contentType), ['application/strategic-merge-patch+json', 'application/strategic-merge-patch+json'])
  t.equal(JSON.stringify(patches[0]!.body), JSON.stringify({
    spec: {
      template: {
        spec: {
          '$setElementOrder/containers': [{ name: 'web' }, { name: 'proxy' }],
          '$setElementOrder/initContainers': [{ name: 'migrate' }],
          containers: [{ image: `${WEB}@${digestOf(built, WEB)}`, name: 'web' }],
          initContainers: [{ image: `${WORKER}@${digestOf(built, WORKER)}`, name: 'migrate' }]
        }
      }
    }
  }), 'byte for byte what kubectl set image sends')
  t.match(web, { metadata: { generation: 2 } }, 'the rollout started by itself')
  t.match(readFileSync(buildLogPath(env.DATA_DIR!, built.id), 'utf8'), /\[deploy\] deployment "web" successfully rolled out\n/)
  const projects = (await app.inject({ url: '/projects', headers: auth })).json().projects
  t.match(projects[0], {
    deployments: { strategy: 'digest' },
    deployed: { build: built.id, commit: commit('a'), strategy: 'digest', status: 'succeeded', rollbackOf: null, digests: { [WEB]: digestOf(built, WEB), [WORKER]: digestOf(built, WORKER) } }
  })
  const next = await build('b')
  t.not(digestOf(next, WEB), digestOf(built, WEB))
  t.equal(kube.get('deployments', 'demo', 'web')!.spec.template.spec.containers[0].image, `${WEB}@${digestOf(next, WEB)}`, 'the next push pins the next digest')
})

t.test('from its first patch a deploy is what the project runs (running), and stays so when its rollout fails', async t => {
  const { app, kube } = await setup(t, '["deployment/web"]\ntimeout_seconds = 1')
  kube.rollout = 'stuck'
  const res = await app.inject({ method: 'POST', url: '/demo', headers: auth, payload: { commit: commit('a') } })
  const during = await eventually(() => app.store.deploys.current('demo') ?? undefined, 'the deploy to be recorded')
  t.match(during, { build: res.json().id, status: 'running' }, 'recorded while the rollout goes on')
  const built = await finished(app, res.json().id as number)
  t.match(built, { status: 'failed', deploy: { status: 'failed', deployedAt: during.at } })
  t.match(app.store.deploys.current('demo'), { build: built.id, status: 'failed', at: during.at })
})

t.test('a resource that runs none of the built images fails the deploy before anything is patched, naming what it runs', async t => {
  const { kube, build } = await setup(t, '["statefulset/jobs", "deployment/cache"]')
  kube.add('deployments', 'demo', 'cache', { replicas: 1, containers: [{ name: 'redis', image: 'redis:7' }] })
  const built = await build('a')
  t.match(built, { status: 'failed', deploy: { status: 'failed', deployedAt: null } })
  t.equal(built.deploy.error, 'deployment/cache has no container running an image built here (registry.test/demo/web, registry.test/demo/worker): it runs redis=redis:7')
  t.same(kube.requests.filter(request => request.method === 'PATCH'), [], 'nothing patched')
  t.equal(kube.get('statefulsets', 'demo', 'jobs')!.metadata.generation, 1)
})

t.test('a build that finishes after a newer build deployed does not touch the cluster: deploy skipped, with the reason', async t => {
  const { app, kube } = await setup(t, '["deployment/web"]')
  const project = app.settings.projects[0]!
  // The scheduler runs one build of a project at a time, and the newest push wins the queue, so two
  // builds finishing out of order are made here by hand: both recorded running, the newer one run first.
  const record = (c: string): BuildRecord => {
    const { build } = app.store.record(newBuild(project, { source: 'api', event: 'trigger', delivery: null, ref: 'refs/heads/main', commit: commit(c), sender: null }))
    app.store.start(build.id)
    return app.store.get(build.id)!
  }
  const older = record('a')
  const newer = record('b')
  const log = app.log.child({})
  const run = async (build: BuildRecord) => {
    const outcome = await app.builds.runner.run(build, project, new AbortController().signal, log)
    app.store.finish(build.id, outcome.status, outcome.error)
    return app.store.get(build.id)!
  }
  const last = await run(newer)
  t.match(last, { status: 'succeeded', deploy: { status: 'succeeded' } })
  const patches = kube.requests.filter(request => request.method === 'PATCH').length
  const late = await run(older)
  t.match(late, {
    status: 'succeeded',
    images: [{ status: 'succeeded', digest: /^sha256:/ }, { status: 'succeeded' }],
    deploy: { status: 'skipped', strategy: 'digest', error: null, deployedAt: null, reason: `build ${newer.id} (bbbbbbbbbbbb), newer than this one, deployed at ${app.store.deploys.current('demo')!.at}: an older build never deploys over it` }
  })
  t.equal(kube.requests.filter(request => request.method === 'PATCH').length, patches, 'no patch')
  t.equal(kube.get('deployments', 'demo', 'web')!.spec.template.spec.containers[0].image, `${WEB}@${digestOf(last, WEB)}`, 'the newer digest stays')
  t.match(app.store.deploys.current('demo'), { build: newer.id })
  const metrics = (await app.inject({ url: '/metrics' })).body
  t.match(metrics, /build_hook_deploys_total\{project="demo",strategy="digest",outcome="succeeded"\} 1\n/)
  t.match(metrics, /build_hook_deploys_total\{project="demo",strategy="digest",outcome="skipped"\} 1\n/)
})
