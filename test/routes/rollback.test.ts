import path from 'node:path'
import t, { type Test } from 'tap'
import type { BuildRecord } from '../../lib/schemas/build.js'
import { newBuild } from '../../lib/builds/new-build.js'
import { builderReady, buildOf, configToml, eventually, finished, harness, TOKENS, tempDir, writeConfig } from '../helper.js'
import { closedEndpoint } from '../fixtures/docker.js'
import { startFakeKube } from '../fixtures/kube-api.js'
import { runCli } from '../cli.js'

// Rollback (docs/contract.md "Deploy by digest, rollback"): a build that builds nothing and deploys an earlier build's
// digests again, by either strategy, through the real app, the docker double's registry and the API double.

const auth = { authorization: `Bearer ${TOKENS[0]}` }
const commit = (c: string) => c.repeat(40)
const WEB = 'registry.test/demo/web'

async function setup (t: Test, strategy: 'restart' | 'digest', options: { deployments?: boolean, images?: string[] } = {}) {
  const kube = await startFakeKube(t, tempDir(t))
  kube.add('deployments', 'demo', 'web', { replicas: 2, containers: [{ name: 'web', image: `${WEB}:latest` }] })
  const deployments = options.deployments === false ? '' : `[projects.deployments]\nnamespace = "demo"\nresources = ["deployment/web"]\nstrategy = "${strategy}"\n`
  const toml = configToml([{ slug: 'demo', extra: deployments, images: options.images }, { slug: 'other' }])
  const h = await harness(t, { CONFIG_PATH: writeConfig(t, toml), KUBECONFIG: kube.kubeconfig })
  await builderReady(h.app)
  const build = (c: string): Promise<BuildRecord> => buildOf(t, h.app, 'demo', commit(c))
  const rollback = (body?: object, slug = 'demo') => h.app.inject({
    method: 'POST',
    url: `/projects/${slug}/rollback`,
    headers: body === undefined ? auth : { ...auth, 'content-type': 'application/json' },
    ...(body === undefined ? {} : { payload: JSON.stringify(body) })
  })
  const image = () => kube.get('deployments', 'demo', 'web')!.spec.template.spec.containers[0].image as string
  return { ...h, kube, build, rollback, image }
}

t.test('digest: a rollback without a build pins the workload to the digest deployed before, building nothing', async t => {
  const { app, docker, kube, build, rollback, image } = await setup(t, 'digest')
  const first = await build('a')
  const second = await build('b')
  const [old, current] = [first.images[0]!.digest!, second.images[0]!.digest!]
  t.not(old, current)
  t.equal(image(), `${WEB}@${current}`, 'the push is deployed by digest')
  const res = await rollback()
  t.equal(res.statusCode, 202)
  const queued = res.json() as BuildRecord
  t.match(queued, {
    id: 3,
    project: 'demo',
    status: 'queued',
    rollbackOf: first.id,
    trigger: { source: 'rollback', event: 'rollback', commit: commit('a'), delivery: null, sender: null },
    images: [{ image: WEB, tags: [], digest: old, status: 'pending' }]
  })
  const done = await finished(app, 3)
  t.match(done, { status: 'succeeded', commit: commit('a'), images: [{ status: 'succeeded', digest: old }], deploy: { status: 'succeeded', strategy: 'digest', deployedAt: String } })
  t.equal(image(), `${WEB}@${old}`, 'the workload runs build 1 exactly')
  t.equal(docker.builds().length, 2, 'no image was built')
  t.equal(docker.imagetoolsCalls().length, 0, 'and no tag moved')
  const patches = kube.requests.filter(request => request.method === 'PATCH')
  t.same(patches.at(-1)!.query, { fieldManager: 'kubectl-set' })
  const projects = (await app.inject({ url: '/projects', headers: auth })).json().projects as Array<{ slug: string, deployed: unknown }>
  t.match(projects[0], { slug: 'demo', deployed: { build: 3, commit: commit('a'), digests: { [WEB]: old }, strategy: 'digest', status: 'succeeded', rollbackOf: 1 } })
  t.match(projects[1], { slug: 'other', deployed: null })
  const metrics = (await app.inject({ url: '/metrics' })).body
  t.match(metrics, /build_hook_rollbacks_total\{project="demo",status="succeeded"\} 1\n/)
  t.match(metrics, /build_hook_deploys_total\{project="demo",strategy="digest",outcome="succeeded"\} 3\n/)
  t.match(metrics, /build_hook_rollbacks_total\{project="other",status="failed"\} 0\n/)
  t.match((await rollback()).json(), { rollbackOf: second.id }, 'twice in a row goes back to where it was, as kubectl rollout undo does')
})

t.test('restart: the tag is pointed back at the old digest with imagetools create, then the workload is restarted', async t => {
  const { app, docker, kube, build, rollback } = await setup(t, 'restart')
  const first = await build('a')
  await build('b')
  const old = first.images[0]!.digest!
  t.not(docker.tags().get(`${WEB}:latest`), old)
  const res = await rollback({ build: first.id })
  t.equal(res.statusCode, 202)
  t.match(res.json(), { rollbackOf: 1, images: [{ image: WEB, tags: ['latest'], digest: old }] })
  const done = await finished(app, 3)
  t.match(done, { status: 'succeeded', images: [{ status: 'succeeded', digest: old, reason: null }], deploy: { status: 'succeeded', strategy: 'restart' } })
  t.same(docker.imagetoolsCalls().map(call => call.argv), [[
    'buildx', 'imagetools', 'create', '--builder', 'build-hook', '--progress=plain', '--prefer-index=false', '-t', `${WEB}:latest`, `${WEB}@${old}`
  ]])
  t.equal(docker.tags().get(`${WEB}:latest`), old, 'the tag resolves to exactly the old digest')
  const patches = kube.requests.filter(request => request.method === 'PATCH')
  t.equal(patches.length, 3, 'each build restarted once, and the rollback too')
  t.same(patches.at(-1)!.query, { fieldManager: 'kubectl-rollout' })
  t.equal(docker.builds().length, 2, 'no image was built')
})

t.test('restart: an old digest the registry no longer has fails the rollback before anything is restarted', async t => {
  const { app, docker, kube, build, rollback } = await setup(t, 'restart')
  const first = await build('a')
  await build('b')
  docker.deleteManifest(WEB, first.images[0]!.digest!)
  const patches = kube.requests.filter(request => request.method === 'PATCH').length
  t.equal((await rollback({ build: 1 })).statusCode, 202)
  const done = await finished(app, 3)
  t.match(done, { status: 'failed', images: [{ status: 'failed', reason: 'image-not-found' }], deploy: { status: 'pending' } })
  t.match(done.error, /no longer in the registry/)
  t.equal(kube.requests.filter(request => request.method === 'PATCH').length, patches, 'nothing was restarted')
  t.match(app.store.deploys.current('demo'), { build: 2 }, 'what is deployed is unchanged')
})

t.test('restart: a rollback that fails for one image points the tags it moved back at what is deployed, so none is left half moved', async t => {
  const API = 'registry.test/demo/api'
  const { app, docker, kube, build, rollback, env } = await setup(t, 'restart', { images: ['web', 'api'] })
  const first = await build('a')
  const second = await build('b')
  docker.control({ images: { [API]: { imagetools: 'push-denied' } } })
  const patches = kube.requests.filter(request => request.method === 'PATCH').length
  t.equal((await rollback({ build: first.id })).statusCode, 202)
  const done = await finished(app, 3)
  t.match(done, { status: 'failed', images: [{ image: WEB }, { image: API, status: 'failed', reason: 'push-denied' }] })
  t.same(done.images.map(image => image.digest), first.images.map(image => image.digest), 'the record keeps the digests it was deploying')
  t.equal(docker.tags().get(`${WEB}:latest`), second.images[0]!.digest, 'web is back where the deploy has it')
  t.equal(docker.tags().get(`${API}:latest`), second.images[1]!.digest)
  t.equal(kube.requests.filter(request => request.method === 'PATCH').length, patches, 'nothing restarted')
  const { readFileSync } = await import('node:fs')
  const { buildLogPath } = await import('../../lib/builds/build-log.js')
  t.match(readFileSync(buildLogPath(env.DATA_DIR!, 3), 'utf8'), `[build-hook] ${WEB}:latest points again at ${second.images[0]!.digest!}, as deployed by build 2\n`)
})

t.test('restart: a tag that cannot be pointed back is named in the build log', async t => {
  const API = 'registry.test/demo/api'
  const { app, docker, build, rollback, env } = await setup(t, 'restart', { images: ['web', 'api'] })
  const first = await build('a')
  const second = await build('b')
  docker.control({ images: { [API]: { imagetools: 'push-denied' } } })
  docker.deleteManifest(WEB, second.images[0]!.digest!) // what is deployed is gone from the registry
  t.equal((await rollback({ build: first.id })).statusCode, 202)
  t.match(await finished(app, 3), { status: 'failed' })
  const { readFileSync } = await import('node:fs')
  const { buildLogPath } = await import('../../lib/builds/build-log.js')
  t.match(readFileSync(buildLogPath(env.DATA_DIR!, 3), 'utf8'), `[build-hook] ${WEB}:latest could not be pointed back at ${second.images[0]!.digest!}: `)
})

t.test('without deployments, a failed rollback cannot know where the tags pointed before, and says so', async t => {
  const API = 'registry.test/demo/api'
  const { app, docker, build, rollback, env } = await setup(t, 'restart', { deployments: false, images: ['web', 'api'] })
  const first = await build('a')
  await build('b')
  docker.control({ images: { [API]: { imagetools: 'push-denied' } } })
  t.equal((await rollback({ build: first.id })).statusCode, 202)
  t.match(await finished(app, 3), { status: 'failed' })
  const { readFileSync } = await import('node:fs')
  const { buildLogPath } = await import('../../lib/builds/build-log.js')
  t.match(readFileSync(buildLogPath(env.DATA_DIR!, 3), 'utf8'), `[build-hook] ${WEB}:latest stays at ${first.images[0]!.digest!}: no deploy of demo records what it pointed at before\n`)
})

t.test('without deployments, a rollback only points the tags back', async t => {
  const { app, docker, build, rollback } = await setup(t, 'restart', { deployments: false })
  const first = await build('a')
  await build('b')
  t.equal((await rollback({ build: 1 })).statusCode, 202)
  t.match(await finished(app, 3), { status: 'succeeded', deploy: { status: 'skipped', strategy: null } })
  t.equal(docker.tags().get(`${WEB}:latest`), first.images[0]!.digest)
})

t.test('a rollback runs while BuildKit is unreachable: it needs none (builds wait)', async t => {
  const kube = await startFakeKube(t, tempDir(t))
  kube.add('deployments', 'demo', 'web', { replicas: 2, containers: [{ name: 'web', image: `${WEB}:latest` }] })
  const toml = configToml([{ slug: 'demo', extra: '[projects.deployments]\nnamespace = "demo"\nresources = ["deployment/web"]\n' }])
  const { app, docker } = await harness(t, { CONFIG_PATH: writeConfig(t, toml), KUBECONFIG: kube.kubeconfig, BUILDKIT_HOST: await closedEndpoint() })
  await eventually(() => docker.builder('build-hook'), 'the builder to be created')
  t.equal(app.builder.ready, false)
  // Two builds that pushed and deployed before BuildKit went away, as the store remembers them.
  const project = app.settings.projects[0]!
  const deployed = ['a', 'b'].map(c => {
    const { build } = app.store.record(newBuild(project, { source: 'api', event: 'trigger', delivery: null, ref: 'refs/heads/main', commit: commit(c), sender: null }))
    app.store.start(build.id)
    app.store.updateImage(build.id, 0, { status: 'succeeded', digest: docker.pushManifest(WEB, { tags: [`${WEB}:latest`] }) })
    app.store.recordDeploy(build.id, { strategy: 'restart', status: 'succeeded', commit: commit(c) })
    app.store.finish(build.id, 'succeeded', null)
    return app.store.get(build.id)!
  })
  const queued = (await app.inject({ method: 'POST', url: '/demo', headers: auth, payload: { commit: commit('c') } })).json().id as number
  t.equal((await rollback(app)).statusCode, 202)
  t.match(await finished(app, 4), { status: 'succeeded', rollbackOf: 1, deploy: { status: 'succeeded' } })
  t.equal(docker.tags().get(`${WEB}:latest`), deployed[0]!.images[0]!.digest)
  t.equal(app.store.get(queued)!.status, 'superseded', 'the rollback replaced the queued build, as a newer push would')
  t.equal(docker.builds().length, 0)
})

async function rollback (app: Awaited<ReturnType<typeof harness>>['app']) {
  return app.inject({ method: 'POST', url: '/projects/demo/rollback', headers: auth })
}

t.test('a rollback is refused, with the reason, when there is nothing to go back to', async t => {
  const { app, docker, build, rollback } = await setup(t, 'digest')
  t.match((await rollback()).json(), { statusCode: 409, error: 'Conflict', message: 'Project demo has no earlier deploy to roll back to: name a build' })
  await build('a')
  t.equal((await rollback()).statusCode, 409, 'one deploy: nothing before it')
  docker.control({ images: { [WEB]: { fail: 'step' } } })
  const failed = await build('b')
  t.equal(failed.status, 'failed')
  t.match((await rollback({ build: failed.id })).json(), { statusCode: 409, message: `Build ${failed.id} has no pushed digest for ${WEB}: only a build that pushed all its images can be rolled back to` })
  t.match((await rollback({ build: 99 })).json(), { statusCode: 404, message: 'No build 99 of project demo' })
  const other = await app.inject({ method: 'POST', url: '/other', headers: auth, payload: { commit: commit('c') } })
  t.match((await rollback({ build: other.json().id as number })).json(), { statusCode: 404 }, "another project's build is not this project's")
  t.match((await rollback({}, 'nope')).json(), { statusCode: 404, message: "No project 'nope'" })
  t.equal((await rollback({ build: 'one' })).statusCode, 400)
  const empty = await app.inject({ method: 'POST', url: '/projects/demo/rollback', headers: { ...auth, 'content-type': 'application/json' } })
  t.match(empty.json(), { statusCode: 409, message: /no earlier deploy/ }, 'an empty JSON body is no body')
  const broken = await app.inject({ method: 'POST', url: '/projects/demo/rollback', headers: { ...auth, 'content-type': 'application/json' }, payload: '{"build":' })
  t.match(broken.json(), { statusCode: 400, error: 'Bad Request' }, 'malformed JSON is still 400')
  t.equal((await rollback({ build: 1, extra: true })).statusCode, 400)
  t.equal((await app.inject({ method: 'POST', url: '/projects/nope/rollback' })).statusCode, 401, 'unauthenticated callers learn nothing: 401 before 404')
  t.equal(docker.builds().length, 2)
})

t.test('a rollback while a build runs waits for it, then deploys the old digests last', async t => {
  const { app, docker, env, build, rollback, image } = await setup(t, 'digest')
  const first = await build('a')
  const gate = path.join(env.HOME!, 'go-on')
  docker.control({ images: { [WEB]: { waitForFile: gate } } })
  const running = (await app.inject({ method: 'POST', url: '/demo', headers: auth, payload: { commit: commit('b') } })).json().id as number
  await eventually(() => docker.calls().find(call => call.event === 'waiting'), 'build 2 to be running its step')
  const res = await rollback({ build: first.id })
  t.match(res.json(), { status: 'queued', rollbackOf: first.id })
  t.equal(app.store.get(running)!.status, 'running', 'the running build is not interrupted')
  const { writeFileSync } = await import('node:fs')
  writeFileSync(gate, '')
  t.match(await finished(app, running), { status: 'succeeded', deploy: { status: 'succeeded' } })
  t.match(await finished(app, 3), { status: 'succeeded', deploy: { status: 'succeeded' } })
  t.equal(image(), `${WEB}@${first.images[0]!.digest!}`, 'the rollback, queued last, is what runs')
  t.match(app.store.deploys.current('demo'), { build: 3, rollbackOf: 1 })
})

t.test('a rollback cancelled during its rollout is recorded cancelled, and the history says its rollout failed', async t => {
  const { app, kube, build, rollback, image } = await setup(t, 'digest')
  const first = await build('a')
  await build('b')
  kube.rollout = 'stuck'
  t.equal((await rollback()).statusCode, 202)
  await eventually(() => app.store.deploys.current('demo')?.build === 3 || undefined, 'the rollback to patch the workload')
  t.equal(image(), `${WEB}@${first.images[0]!.digest!}`)
  t.match((await app.inject({ method: 'POST', url: '/builds/3/cancel', headers: auth })).json(), { id: 3, status: 'cancelling' })
  t.match(await finished(app, 3), { status: 'cancelled', attempt: 1, deploy: { status: 'failed', error: 'interrupted' } })
  t.match(app.store.deploys.current('demo'), { build: 3, status: 'failed', rollbackOf: 1 }, 'the workload was changed: that is what it runs')
  t.match(app.store.deploys.previous('demo'), { build: 2 }, 'a rollback from here goes back to the last good deploy')
})

t.test('build-hook rollback: queues it, follows it with --follow, and says what went wrong', async t => {
  const { app, build } = await setup(t, 'digest')
  await build('a')
  await build('b')
  const url = await app.listen({ host: '127.0.0.1', port: 0 })
  const env = { HOOK_URL: url, HOOK_TOKEN: TOKENS[0] }
  const follow = await runCli(['rollback', 'demo', '--follow'], env)
  t.equal(follow.code, 0)
  t.match(follow.stderr, /^rollback 3 of demo to build 1 \(aaaaaaaaaaaa\): queued\nbuild 3 succeeded\n$/)
  t.match(follow.stdout, /\[deploy\] deployment\/web: /)
  t.same(await runCli(['rollback', 'demo', '--to', '2'], env), { code: 0, stdout: '', stderr: 'rollback 4 of demo to build 2 (bbbbbbbbbbbb): queued\n' })
  t.same(await runCli(['rollback', 'demo', '--to', '99'], env), { code: 1, stdout: '', stderr: 'build-hook: 404 Not Found: No build 99 of project demo\n' })
  t.same(await runCli(['rollback', 'demo', '--to', 'x'], env), { code: 2, stdout: '', stderr: "build-hook: invalid build id 'x': a positive integer of at most 9007199254740991\nSee 'build-hook rollback --help'.\n" })
  t.same(await runCli(['rollback'], env), { code: 2, stdout: '', stderr: "build-hook: missing required argument 'slug'\nSee 'build-hook rollback --help'.\n" })
  const json = await runCli(['rollback', 'demo', '--to', '1', '-o', 'json'], env)
  t.match(JSON.parse(json.stdout), { id: 5, project: 'demo', status: 'queued', rollbackOf: 1, trigger: { source: 'rollback' } })
  await finished(app, 5)
})
