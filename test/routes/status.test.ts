import { readFileSync, writeFileSync } from 'node:fs'
import http from 'node:http'
import path from 'node:path'
import t, { type Test } from 'tap'
import { newBuild } from '../../lib/builds/new-build.js'
import { buildLogPath } from '../../lib/builds/build-log.js'
import { startFakeKube } from '../fixtures/kube-api.js'
import { builderReady, configToml, eventually, finished, harness, TEST_APP_OPTIONS, TOKENS, tempDir, within, writeConfig } from '../helper.js'

const auth = { authorization: `Bearer ${TOKENS[0]}` }
const commit = (n: number) => n.toString(16).padStart(40, '0')

/** Projects demo and other; demo's builds hold in their RUN step until release(). */
async function setup (t: Test) {
  const gate = path.join(tempDir(t), 'release')
  const toml = configToml([{ slug: 'demo', images: ['web', 'api'], extra: '[projects.deployments]\nnamespace = "demo"\nresources = ["deployment/web"]\n' }, { slug: 'other' }])
  const kube = await startFakeKube(t, tempDir(t))
  kube.add('deployments', 'demo', 'web')
  const h = await harness(t, { CONFIG_PATH: writeConfig(t, toml), KUBECONFIG: kube.kubeconfig })
  h.docker.control({ images: { 'registry.test/demo/web': { waitForFile: gate, lines: 20 } } })
  await builderReady(h.app)
  const get = (url: string) => h.app.inject({ method: 'GET', url, headers: auth })
  const trigger = (slug: string, sha: string) => h.app.inject({ method: 'POST', url: `/${slug}`, headers: auth, payload: { commit: sha } })
  const holding = () => eventually(() => h.docker.calls().some(call => call.event === 'waiting') || undefined, 'the build to hold')
  return { ...h, get, trigger, holding, release: () => writeFileSync(gate, '') }
}

/** Records builds straight into the store: id n of project p with status s. */
function seed (app: Awaited<ReturnType<typeof setup>>['app'], plan: Array<['demo' | 'other', 'succeeded' | 'failed']>) {
  for (const [slug, status] of plan) {
    const project = app.settings.projects.find(p => p.slug === slug)!
    const { build } = app.store.record(newBuild(project, { source: 'api', event: 'trigger', delivery: null, ref: 'refs/heads/main', commit: commit(Math.random() * 1e9 | 0), sender: null }))
    app.store.start(build.id)
    app.store.finish(build.id, status, status === 'failed' ? 'boom' : null)
  }
}

t.test('GET /projects lists each project with its images, deployments and last build', async t => {
  const { app, get, trigger, release } = await setup(t)
  const empty = await get('/projects')
  t.equal(empty.statusCode, 200)
  t.same(empty.json().projects.map((p: { lastBuild: unknown }) => p.lastBuild), [null, null])
  release()
  await trigger('demo', commit(1))
  const build = await finished(app, 1)
  t.same((await get('/projects')).json(), {
    projects: [
      {
        slug: 'demo',
        name: 'demo',
        repository: 'https://git.test/org/demo',
        branch: 'main',
        images: [{ image: 'registry.test/demo/web:latest', dockerfile: 'Dockerfile', context: '.' }, { image: 'registry.test/demo/api:latest', dockerfile: 'api/Dockerfile', context: 'api' }],
        deployments: { namespace: 'demo', resources: ['deployment/web'], strategy: 'restart' },
        deployed: {
          build: 1,
          commit: commit(1),
          strategy: 'restart',
          status: 'succeeded',
          rollbackOf: null,
          at: build.deploy.deployedAt!,
          digests: { 'registry.test/demo/web': build.images[0]!.digest!, 'registry.test/demo/api': build.images[1]!.digest! }
        },
        lastBuild: { id: 1, status: 'succeeded', commit: commit(1), createdAt: build.createdAt, finishedAt: build.finishedAt }
      },
      { slug: 'other', name: 'other', repository: 'https://git.test/org/other', branch: 'main', images: [{ image: 'registry.test/other/web:latest', dockerfile: 'Dockerfile', context: '.' }], deployments: null, deployed: null, lastBuild: null }
    ]
  })
  t.equal((await app.inject({ method: 'GET', url: '/projects' })).statusCode, 401)
})

t.test('GET /builds pages newest first, filtered by project and status', async t => {
  const { app, get } = await setup(t)
  seed(app, [['demo', 'succeeded'], ['other', 'succeeded'], ['demo', 'failed'], ['demo', 'succeeded'], ['other', 'failed']])
  const ids = (res: { json: () => { builds: Array<{ id: number }> } }) => res.json().builds.map(build => build.id)
  t.same(ids(await get('/builds')), [5, 4, 3, 2, 1])
  t.equal((await get('/builds')).json().next, null)
  const first = await get('/builds?limit=2')
  t.same([ids(first), first.json().next], [[5, 4], 4])
  const second = await get('/builds?limit=2&before=4')
  t.same([ids(second), second.json().next], [[3, 2], 2])
  const last = await get('/builds?limit=2&before=2')
  t.same([ids(last), last.json().next], [[1], null])
  const exact = await get('/builds?limit=5')
  t.same([ids(exact).length, exact.json().next], [5, null], 'a page that ends exactly at the last build has no next')
  t.same(ids(await get('/builds?project=demo')), [4, 3, 1])
  t.same(ids(await get('/builds?project=demo&status=failed')), [3])
  t.same(ids(await get('/builds?project=nosuch')), [])
  t.same(ids(await get('/builds?limit=200')), [5, 4, 3, 2, 1])
  t.match((await get('/builds?limit=1')).json().builds[0], { id: 5, project: 'other', status: 'failed', error: 'boom', trigger: { source: 'api' }, images: [{ image: 'registry.test/other/web', status: 'cancelled' }] })
})

t.test('GET /builds refuses malformed query values with 400, naming the parameter and what it accepts', async t => {
  const { get } = await setup(t)
  const limit = "query parameter 'limit' must be an integer from 1 to 200"
  const before = "query parameter 'before' must be an integer from 1 to 9007199254740991"
  const cases: Array<[string, string]> = [
    ['limit=0', limit], ['limit=201', limit], ['limit=ten', limit], ['limit=', limit],
    ['before=0', before], ['before=-3', before], ['before=1.5', before],
    ['status=done', "query parameter 'status' must be one of queued, running, succeeded, failed, cancelled, superseded"],
    ['project=Not_A_Slug', "query parameter 'project' must be a string of at most 63 characters matching ^[a-z0-9][a-z0-9-]*$"],
    [`project=${'a'.repeat(64)}`, "query parameter 'project' must be a string of at most 63 characters matching ^[a-z0-9][a-z0-9-]*$"],
    ['sort=asc', "unknown query parameter 'sort' (accepted: project, status, limit, before)"],
    ['foo=1&limit=5', "unknown query parameter 'foo' (accepted: project, status, limit, before)"]
  ]
  for (const [query, message] of cases) {
    const res = await get(`/builds?${query}`)
    t.equal(res.statusCode, 400, query)
    t.same(res.json(), { statusCode: 400, error: 'Bad Request', message }, query)
  }
})

t.test('GET /builds/:id is the full record; unknown ids are 404, malformed ones 400', async t => {
  const { app, get, trigger, release } = await setup(t)
  release()
  await trigger('demo', commit(7))
  const build = await finished(app, 1)
  const res = await get('/builds/1')
  t.equal(res.statusCode, 200)
  t.same(res.json(), build)
  t.match(res.json(), { images: [{ image: 'registry.test/demo/web', tags: ['latest', 'sha-000000000000'], digest: /^sha256:/, durationMs: Number }, { image: 'registry.test/demo/api' }], deploy: { status: 'succeeded', namespace: 'demo', resources: ['deployment/web'] }, attempt: 1, supersededBy: null })
  t.same((await get('/builds/2')).json(), { statusCode: 404, error: 'Not Found', message: 'No build 2' })
  t.equal((await get('/builds/two')).statusCode, 400)
  t.equal((await get('/builds/2/logs')).statusCode, 404)
})

t.test("a finished build's log is sent whole as text/plain", async t => {
  const { app, env, get, trigger, release } = await setup(t)
  release()
  await trigger('demo', commit(1))
  await finished(app, 1)
  for (const url of ['/builds/1/logs', '/builds/1/logs?follow=true']) {
    const res = await get(url)
    t.equal(res.statusCode, 200, url)
    t.equal(res.headers['content-type'], 'text/plain; charset=utf-8', url)
    t.equal(res.body, readFileSync(buildLogPath(env.DATA_DIR!, 1), 'utf8'), url)
  }
  t.equal((await get('/builds/1/logs?follow=maybe')).statusCode, 400)
})

t.test('following a running build receives its lines in order as they come and ends when the build ends', async t => {
  const { app, env, trigger, holding, release } = await setup(t)
  await trigger('demo', commit(1))
  await holding()
  const base = await app.listen({ host: '127.0.0.1', port: 0 })
  const res = await fetch(`${base}/builds/1/logs?follow=true`, { headers: auth })
  t.equal(res.headers.get('content-type'), 'text/plain; charset=utf-8')
  const reader = res.body!.getReader()
  const decoder = new TextDecoder()
  let received = ''
  /** Reads until `until` holds or the stream ends; true when it ended. */
  const readUntil = async (until: () => boolean): Promise<boolean> => {
    while (!until()) {
      const { done, value } = await within(reader.read(), 'the next chunk of the followed log')
      if (done) return true
      received += decoder.decode(value)
    }
    return false
  }
  t.equal(await readUntil(() => received.includes('compiling unit 19')), false, 'the stream did not end early')
  t.equal(app.store.get(1)!.status, 'running', 'lines arrive while the build runs')
  release()
  t.equal(await readUntil(() => false), true, 'the stream ends when the build ends')
  t.equal((await finished(app, 1)).status, 'succeeded')
  t.equal(received, readFileSync(buildLogPath(env.DATA_DIR!, 1), 'utf8'), 'exactly the log, in order, nothing twice')
  t.match(received, /\[build-hook\] build 1 succeeded\n$/)
})

t.test('50 concurrent followers of one build all receive the full log', async t => {
  const { app, env, trigger, holding, release } = await setup(t)
  await trigger('demo', commit(1))
  await holding()
  const followers = Array.from({ length: 50 }, () => app.inject({ method: 'GET', url: '/builds/1/logs?follow=true', headers: auth }))
  await eventually(() => app.builds.live.get(1)!.listenerCount('chunk') === 50 || undefined, 'all 50 to listen')
  release()
  const bodies = (await Promise.all(followers)).map(res => res.body)
  const log = readFileSync(buildLogPath(env.DATA_DIR!, 1), 'utf8')
  t.equal(bodies.filter(body => body === log).length, 50)
})

t.test('a follower that disconnects mid-stream leaves nothing behind and does not affect the build', async t => {
  const { app, trigger, holding, release } = await setup(t)
  await trigger('demo', commit(1))
  await holding()
  const base = await app.listen({ host: '127.0.0.1', port: 0 })
  // Node's client, whose destroy() closes the socket (undici's fetch keeps a pooled connection after an abort).
  let request!: http.ClientRequest
  await new Promise<void>(resolve => {
    request = http.get(`${base}/builds/1/logs?follow=true`, { headers: auth }, res => res.once('data', () => resolve()))
  })
  const log = app.builds.live.get(1)!
  t.equal(log.listenerCount('chunk'), 1)
  request.destroy()
  await eventually(() => log.listenerCount('chunk') === 0 || undefined, 'the follower to stop listening')
  t.equal(log.listenerCount('end'), 0)
  release()
  t.equal((await finished(app, 1)).status, 'succeeded')
})

t.test('following a queued build says why it waits and follows it once it runs; one that ended before ends empty, one cancelled while followed says so', async t => {
  const { app, env, trigger, holding, release } = await setup(t)
  await trigger('demo', commit(1))
  await holding()
  await trigger('demo', commit(2))
  await trigger('demo', commit(3)) // supersedes 2
  const queuedLog = await app.inject({ method: 'GET', url: '/builds/3/logs', headers: auth })
  t.same([queuedLog.statusCode, queuedLog.body], [200, ''], 'a queued build has no log yet')
  const before = app.store.listenerCount('final')
  const queued = app.inject({ method: 'GET', url: '/builds/3/logs?follow=true', headers: auth })
  const superseded = await app.inject({ method: 'GET', url: '/builds/2/logs?follow=true', headers: auth })
  t.same([superseded.statusCode, superseded.body], [200, ''])
  const waiting = app.inject({ method: 'GET', url: '/builds/4/logs?follow=true', headers: auth })
  t.equal((await waiting).statusCode, 404)
  t.equal(app.store.listenerCount('final'), before + 1, 'the follower of build 3 waits for it')
  const cancelledWhileQueued = app.inject({ method: 'GET', url: '/builds/3/logs?follow=true', headers: auth })
  await eventually(() => app.store.listenerCount('final') === before + 2 || undefined, 'the second follower of build 3 to wait')
  await app.inject({ method: 'POST', url: '/builds/3/cancel', headers: auth })
  const cancelled = '[build-hook] build 3 is queued: waiting for build 1 of demo to finish (one build per project at a time)\n[build-hook] build 3 was cancelled before it started\n'
  t.same((await cancelledWhileQueued).body, cancelled)
  t.same((await queued).body, cancelled)
  t.equal(app.store.listenerCount('final'), before, 'and stops waiting once it ended')
  t.equal((await app.inject({ method: 'GET', url: '/builds/3/logs', headers: auth })).body, '', 'the stored log has none of it')
  await trigger('demo', commit(4))
  const following = app.inject({ method: 'GET', url: '/builds/4/logs?follow=true', headers: auth })
  release()
  const body = (await following).body
  t.equal(body, '[build-hook] build 4 is queued: waiting for build 1 of demo to finish (one build per project at a time)\n[build-hook] build 4 started (attempt 1)\n' + readFileSync(buildLogPath(env.DATA_DIR!, 4), 'utf8'))
  t.match(readFileSync(buildLogPath(env.DATA_DIR!, 4), 'utf8'), /^\[build-hook\] build 4 of demo/)
})

t.test('a follower of a queued build gets the headers and why it waits before it starts, each change of reason, then its log', async t => {
  const gates = { demo: path.join(tempDir(t), 'demo'), other: path.join(tempDir(t), 'other') }
  const h = await harness(t, { CONFIG_PATH: writeConfig(t, configToml([{ slug: 'demo' }, { slug: 'other' }], 'max_concurrent_builds = 1')) }, { builds: { ...TEST_APP_OPTIONS.builds, stillWaitingMs: 100 } })
  const { app, docker, env } = h
  const buildkit = h.buildkit!
  docker.control({ deadlineMs: 50, images: { 'registry.test/demo/web': { waitForFile: gates.demo }, 'registry.test/other/web': { waitForFile: gates.other } } })
  await builderReady(app)
  const trigger = (slug: string, sha: string) => app.inject({ method: 'POST', url: `/${slug}`, headers: auth, payload: { commit: sha } })
  await trigger('demo', commit(1))
  await eventually(() => docker.calls().some(call => call.event === 'waiting') || undefined, 'build 1 to hold')
  await trigger('other', commit(2))
  await trigger('demo', commit(3))
  const base = await app.listen({ host: '127.0.0.1', port: 0 })
  const res = await within(fetch(`${base}/builds/3/logs?follow=true`, { headers: auth }), 'the headers')
  t.same([res.status, res.headers.get('content-type'), app.store.get(3)!.status], [200, 'text/plain; charset=utf-8', 'queued'], 'headers while the build is queued')
  const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader()
  let text = ''
  const said: string[] = []
  const repeats: string[] = []
  /** Reads lines until `until` holds for the last one; false when the stream ended first. */
  const readUntil = async (until: (line: string) => boolean): Promise<boolean> => {
    for (;;) {
      const end = text.indexOf('\n')
      if (end >= 0) {
        const line = text.slice(0, end)
        text = text.slice(end + 1)
        if (line.startsWith('[build-hook] still waiting: ')) repeats.push(line)
        else said.push(line)
        if (until(line)) return true
        continue
      }
      const { done, value } = await within(reader.read(), 'the next chunk of the stream')
      if (done) return false
      text += value
    }
  }
  const waitingFor = (what: string) => `[build-hook] build 3 is queued: waiting for ${what}`
  t.ok(await readUntil(line => line === waitingFor('build 1 of demo to finish (one build per project at a time)')), 'its project first')
  t.ok(await readUntil(line => line.startsWith('[build-hook] still waiting: build 1 of demo to finish (one build per project at a time) (')), 'repeated while it waits')
  writeFileSync(gates.demo, '')
  t.ok(await readUntil(line => line === waitingFor('a free builder slot (1 of 1 in use: build 2)')), 'then a slot, once build 2 of other took it')
  await eventually(() => docker.calls().filter(call => call.event === 'waiting').length === 2 || undefined, 'build 2 to hold')
  await buildkit.stop()
  t.ok(await readUntil(line => line.startsWith(waitingFor('the builder to come back ('))), 'then the builder')
  await eventually(() => app.store.get(2)!.attempt === 2 || undefined, 'build 2 to be queued again')
  await buildkit.start()
  t.ok(await readUntil(line => line === waitingFor('a free builder slot (1 of 1 in use: build 2)')), 'then the slot again: build 2 runs again first')
  writeFileSync(gates.other, '')
  t.ok(await readUntil(line => line === '[build-hook] build 3 started (attempt 1)'))
  t.notOk(await readUntil(() => false), 'the stream ends with the build')
  t.equal((await finished(app, 3)).status, 'succeeded')
  const log = readFileSync(buildLogPath(env.DATA_DIR!, 3), 'utf8')
  t.equal(said.slice(said.indexOf('[build-hook] build 3 started (attempt 1)') + 1).join('\n') + '\n', log, 'then exactly its log')
  t.notMatch(log, /is queued|still waiting|started \(attempt/, 'the stored log has none of the waiting lines')
  t.ok(said.slice(0, said.indexOf('[build-hook] build 3 started (attempt 1)')).every(line => line.startsWith('[build-hook] build 3 is queued: waiting for ')))
})
