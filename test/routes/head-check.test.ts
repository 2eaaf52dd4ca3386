import http from 'node:http'
import t, { type Test } from 'tap'
import { BuildStore } from '../../lib/store/build-store.js'
import { closedEndpoint } from '../fixtures/docker.js'
import { startGitServer } from '../fixtures/git-server.js'
import { deliver, pushPayload } from '../fixtures/webhooks/deliveries.js'
import { builderReady, buildIn, configToml, eventually, finished, harness, tempDir, TEST_APP_OPTIONS, TOKENS, writeConfig } from '../helper.js'

// docs/contract.md "The newest pushed commit is what runs": just before a queued webhook build starts, the branch head
// is asked of the Git host (git ls-remote, against a real git http-backend here).

const SECRET = 'head-check-webhook-secret'

async function setup (t: Test, url: string, builds: { headCheck?: boolean, headCheckTimeoutMs?: number } = {}) {
  const toml = configToml([{ url, extra: '[projects.webhook]\nsecret_env = "DEMO_SECRET"\n' }])
  const h = await harness(t, { CONFIG_PATH: writeConfig(t, toml), DEMO_SECRET: SECRET }, { builds: { ...TEST_APP_OPTIONS.builds, headCheck: true, ...builds } })
  await builderReady(h.app)
  /** A GitHub push of `commit` to main, as GitHub delivers it. */
  const push = async (commit: string) => {
    const delivery = deliver('github', pushPayload('github', { commit, repository: url.replace(/\.git$/, '') }), SECRET)
    const res = await h.app.inject({ method: 'POST', url: '/demo', headers: delivery.headers, payload: delivery.body })
    t.equal(res.statusCode, 202, res.body)
    return res.json().id as number
  }
  return { ...h, push }
}

/** An HTTP server that takes requests and never answers them; `requests` resolves with each one's socket. */
async function silentServer (t: Test) {
  const sockets: Array<import('node:net').Socket> = []
  const server = http.createServer(req => { sockets.push(req.socket) })
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
  t.teardown(() => new Promise<void>(resolve => { server.closeAllConnections(); server.close(() => resolve()) }))
  return { url: `http://127.0.0.1:${(server.address() as { port: number }).port}/app.git`, sockets }
}

t.test('two pushes delivered out of order: the newer commit is built, and the record says what was pushed, built and why', async t => {
  const git = await startGitServer(t, tempDir(t))
  const older = git.heads.main!
  const newer = git.advance('main')
  const { app, docker, push } = await setup(t, git.url)
  docker.control({ images: { 'registry.test/demo/web': { durationMs: 200 } } })
  const first = await push(newer) // the newer push's webhook arrives first...
  const second = await push(older) // ...and the older one's last
  // The first is superseded while queued (or checking its head), or, if it started, built as pushed.
  const one = await finished(app, first)
  t.ok(one.status === 'superseded' || (one.status === 'succeeded' && one.commit === newer && one.commitReason === null), `${one.status} ${one.commit}`)
  const last = await finished(app, second)
  t.match(last, {
    status: 'succeeded',
    trigger: { source: 'github', commit: older },
    commit: newer,
    commitReason: `the branch head moved to ${newer} after this push of ${older}: built the head`,
    images: [{ tags: ['latest', `sha-${newer.slice(0, 12)}`], status: 'succeeded' }]
  })
  const builds = docker.builds()
  t.equal(builds.length, one.status === 'succeeded' ? 2 : 1)
  for (const call of builds) {
    t.equal(call.argv!.at(-1), `${git.url}#${newer}`, 'pinned to the newer commit')
    t.ok(call.argv!.includes(`org.opencontainers.image.revision=${newer}`), 'labelled with it')
    t.ok(call.argv!.includes(`registry.test/demo/web:sha-${newer.slice(0, 12)}`), 'tagged with it')
  }
  const res = await app.inject({ method: 'GET', url: `/builds/${second}`, headers: { authorization: `Bearer ${TOKENS[0]}` } })
  t.match(res.json(), { trigger: { commit: older }, commit: newer, commitReason: /^the branch head moved/ }, 'the API shows both')
})

t.test('a head that has not moved is built as pushed, with nothing to explain', async t => {
  const git = await startGitServer(t, tempDir(t))
  const { app, push } = await setup(t, git.url)
  const id = await push(git.heads.main!)
  t.match(await finished(app, id), { status: 'succeeded', trigger: { commit: git.heads.main }, commit: git.heads.main, commitReason: null })
  t.ok(git.requests.anonymous > 0, 'the host was asked')
})

t.test('an API call is built as asked: no head check', async t => {
  const git = await startGitServer(t, tempDir(t))
  const asked = git.heads.main!
  git.advance('main')
  const { app } = await setup(t, git.url)
  const res = await app.inject({ method: 'POST', url: '/demo', headers: { authorization: `Bearer ${TOKENS[0]}` }, payload: { commit: asked } })
  t.equal(res.statusCode, 202)
  t.match(await finished(app, 1), { status: 'succeeded', trigger: { source: 'api', commit: asked }, commit: asked, commitReason: null })
  t.same(git.requests, { authorized: 0, anonymous: 0 }, 'the Git host was not asked')
})

t.test('a Git host that cannot be reached: the pushed commit is built, and the record says the head was not checked', async t => {
  const url = `http://127.0.0.1:${new URL(await closedEndpoint()).port}/app.git`
  const { app, docker, push } = await setup(t, url)
  const commit = 'c0ffee'.padEnd(40, '1')
  const id = await push(commit)
  const build = await finished(app, id)
  t.match(build, { status: 'succeeded', trigger: { commit }, commit, commitReason: new RegExp(`^the branch head could not be checked \\(cannot read ${url}: .*\\): built the pushed commit$`) })
  t.equal(docker.builds()[0]!.argv!.at(-1), `${url}#${commit}`)
})

t.test('a Git host that never answers: the check gives up after its timeout and the pushed commit is built', async t => {
  const silent = await silentServer(t)
  const { app, push } = await setup(t, silent.url, { headCheckTimeoutMs: 300 })
  const commit = 'c0ffee'.padEnd(40, '2')
  const id = await push(commit)
  t.match(await finished(app, id), { status: 'succeeded', commit, commitReason: /^the branch head could not be checked \(.*timed out.*\): built the pushed commit$/ })
})

t.test('a build waiting for its head check stays queued, and shutdown ends the check at once and leaves it queued', async t => {
  const silent = await silentServer(t)
  const { app, env, push } = await setup(t, silent.url, { headCheckTimeoutMs: 600_000 })
  const id = await push('c0ffee'.padEnd(40, '3'))
  await eventually(() => silent.sockets[0], 'git ls-remote to ask the host')
  t.equal(app.store.get(id)!.status, 'queued', 'not started while the head is unknown')
  const hungUp = new Promise(resolve => silent.sockets[0]!.once('close', resolve))
  await app.close()
  await hungUp // git was ended, not left waiting for its 10 minutes
  const store = new BuildStore(env.DATA_DIR!)
  t.teardown(() => store.close())
  t.match(store.get(id), { status: 'queued', commit: null, startedAt: null }, 'it runs after the next start')
})

t.test('cancelling a build during its head check cancels it at once and frees the project', async t => {
  const silent = await silentServer(t)
  const { app, push } = await setup(t, silent.url, { headCheckTimeoutMs: 600_000 })
  const id = await push('c0ffee'.padEnd(40, '4'))
  await eventually(() => silent.sockets[0], 'git ls-remote to ask the host')
  const projects = await app.inject({ method: 'GET', url: '/projects', headers: { authorization: `Bearer ${TOKENS[0]}` } })
  t.match(projects.json().projects[0].lastBuild, { id, status: 'queued', commit: 'c0ffee'.padEnd(40, '4') }, 'not started: the pushed commit')
  const hungUp = new Promise(resolve => silent.sockets[0]!.once('close', resolve))
  const res = await app.inject({ method: 'POST', url: `/builds/${id}/cancel`, headers: { authorization: `Bearer ${TOKENS[0]}` } })
  t.equal(res.statusCode, 202)
  t.match(await buildIn(app, id, ['cancelled']), { error: 'cancelled through the API', commit: null })
  await hungUp
  const next = await push('c0ffee'.padEnd(40, '5'))
  await eventually(() => silent.sockets[1], "the project's next build to check its head")
  t.equal(app.store.get(next)!.status, 'queued')
})
