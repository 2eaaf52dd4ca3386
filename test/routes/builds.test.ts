import { writeFileSync } from 'node:fs'
import path from 'node:path'
import t from 'tap'
import { builderReady, buildIn, eventually, finished, harness, MINIMAL_CONFIG, TOKENS, writeConfig, tempDir } from '../helper.js'

const auth = { authorization: `Bearer ${TOKENS[0]}` }
const commit = (n: number) => n.toString(16).padStart(40, '0')

/** The demo project, whose builds hold in their RUN step until `release()`. */
async function held (t: Parameters<typeof harness>[0], toml = MINIMAL_CONFIG) {
  const gate = path.join(tempDir(t), 'release')
  const h = await harness(t, { CONFIG_PATH: writeConfig(t, toml) })
  h.docker.control({ images: { 'registry.test/demo/web': { waitForFile: gate } } })
  await builderReady(h.app)
  const trigger = (sha: string) => h.app.inject({ method: 'POST', url: '/demo', headers: auth, payload: { commit: sha } })
  const waiting = (count: number) => eventually(() => h.docker.calls().filter(call => call.event === 'waiting').length >= count || undefined, `${count} builds to hold`)
  return { ...h, trigger, waiting, release: () => writeFileSync(gate, '') }
}

t.test('20 pushes while a build runs: exactly one more build runs afterwards, for the newest commit', async t => {
  const { app, docker, trigger, waiting, release } = await held(t)
  t.equal((await trigger(commit(0))).statusCode, 202)
  await waiting(1)
  const answers = await Promise.all(Array.from({ length: 20 }, (_, i) => trigger(commit(i + 1))))
  t.same(answers.map(res => res.statusCode), Array(20).fill(202), 'every push is accepted')
  t.same(answers.map(res => res.json().id).sort((a, b) => a - b), Array.from({ length: 20 }, (_, i) => i + 2))
  release()
  const last = await finished(app, 21)
  t.match(last, { status: 'succeeded', trigger: { commit: commit(20) } })
  t.equal((await finished(app, 1)).status, 'succeeded')
  for (let id = 2; id <= 20; id++) t.match(app.store.get(id), { status: 'superseded', supersededBy: id + 1 }, `build ${id}`)
  const built = docker.builds().map(call => call.argv!.at(-1))
  t.same(built, [`https://git.test/org/demo.git#${commit(0)}`, `https://git.test/org/demo.git#${commit(20)}`], 'two builds ran: the running one and the newest')
})

t.test('a commit that is already queued or running answers 200 duplicate with the existing build', async t => {
  const { app, trigger, waiting, release } = await held(t)
  await trigger(commit(1))
  await waiting(1)
  const running = await trigger(commit(1))
  t.equal(running.statusCode, 200)
  t.same(running.json(), { id: 1, project: 'demo', status: 'running', commit: commit(1), ref: 'refs/heads/main', url: '/builds/1', duplicate: true })
  t.equal((await trigger(commit(2))).statusCode, 202)
  t.match((await trigger(commit(2))).json(), { id: 2, status: 'queued', duplicate: true })
  release()
  await finished(app, 2)
  t.equal(app.store.get(3), null, 'no third build')
})

t.test('cancel: a queued build at once, a running one by interrupting it; a finished one is 409', async t => {
  const { app, trigger, waiting } = await held(t)
  await trigger(commit(1))
  await waiting(1)
  await trigger(commit(2))
  const cancel = (id: number | string, headers: Record<string, string> = auth) => app.inject({ method: 'POST', url: `/builds/${id}/cancel`, headers })
  const queued = await cancel(2)
  t.equal(queued.statusCode, 202)
  t.same(queued.json(), { id: 2, status: 'cancelled' })
  t.match(app.store.get(2), { status: 'cancelled', error: 'cancelled through the API' })
  const running = await cancel(1)
  t.equal(running.statusCode, 202)
  t.same(running.json(), { id: 1, status: 'cancelling' })
  t.match(await finished(app, 1), { status: 'cancelled', error: 'cancelled through the API', images: [{ status: 'cancelled' }] })
  const again = await cancel(1)
  t.equal(again.statusCode, 409)
  t.same(again.json(), { statusCode: 409, error: 'Conflict', message: 'Build 1 has already finished (cancelled)' })
  t.same((await cancel(99)).json(), { statusCode: 404, error: 'Not Found', message: 'No build 99' })
  t.equal((await cancel('abc')).statusCode, 400)
  t.equal((await cancel(0)).statusCode, 400)
  t.equal((await cancel(1, {})).statusCode, 401)
})

t.test('a build left running in the store by another process can be cancelled too', async t => {
  const { app } = await held(t)
  const { newBuild } = await import('../../lib/builds/new-build.js')
  const { build } = app.store.record(newBuild(app.settings.projects[0]!, { source: 'api', event: 'trigger', delivery: null, ref: 'refs/heads/main', commit: commit(7), sender: null }))
  app.store.start(build.id)
  const res = await app.inject({ method: 'POST', url: `/builds/${build.id}/cancel`, headers: auth })
  t.same(res.json(), { id: build.id, status: 'cancelled' })
})

t.test('a prune that fails is logged, and the build keeps its outcome', async t => {
  const { Writable } = await import('node:stream')
  const lines: string[] = []
  const logStream = new Writable({ write (chunk, _encoding, callback) { lines.push(...String(chunk).split('\n').filter(Boolean)); callback() } })
  const h = await harness(t, { LOG_LEVEL: 'info', CONFIG_PATH: writeConfig(t, MINIMAL_CONFIG.replace('registry = "registry.test"', 'registry = "registry.test"\nkeep_builds = 1')) }, { logStream })
  await builderReady(h.app)
  h.app.store.prune = () => { throw new Error('disk I/O error') }
  const answer = await h.app.inject({ method: 'POST', url: '/demo', headers: auth, payload: { commit: commit(1) } })
  t.equal(answer.statusCode, 202)
  t.equal((await finished(h.app, 1)).status, 'succeeded')
  const line = await eventually(() => lines.map(text => JSON.parse(text) as { msg: string, err?: { message: string } }).find(entry => entry.msg === 'Deleting old builds failed.'), 'the failure in the log')
  t.equal(line.err?.message, 'disk I/O error')
})

t.test('retention keeps the newest keep_builds builds of a project and deletes the rest with their logs', async t => {
  const { app, env, trigger, release } = await held(t, MINIMAL_CONFIG.replace('registry = "registry.test"', 'registry = "registry.test"\nkeep_builds = 2'))
  release()
  const { existsSync } = await import('node:fs')
  const { buildLogPath } = await import('../../lib/builds/build-log.js')
  for (let i = 1; i <= 4; i++) {
    await trigger(commit(i))
    await finished(app, i)
  }
  await eventually(() => (app.store.get(2) === null && !existsSync(buildLogPath(env.DATA_DIR!, 2))) || undefined, 'old builds and their logs to go')
  t.same([1, 2, 3, 4].map(id => app.store.get(id)?.status ?? null), [null, null, 'succeeded', 'succeeded'])
  t.same([1, 2, 3, 4].map(id => existsSync(buildLogPath(env.DATA_DIR!, id))), [false, false, true, true])
  await buildIn(app, 4, ['succeeded'])
})
