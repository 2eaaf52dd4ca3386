import t, { type Test } from 'tap'
import { builderReady, configToml, finished, harness, writeConfig } from '../helper.js'
import { BITBUCKET_SERVER_REPOSITORY, bitbucketServerPush, deliverBitbucketServer, type Delivery } from '../fixtures/webhooks/deliveries.js'

// Bitbucket Server / Data Center pushes (X-Event-Key: repo:refs_changed), recorded as bitbucket.

const COMMIT = '9f86d081884c7d659a2feaa0c55ad015a3bf4f1b'
const SECRET = 'bitbucket-server-secret-Lk3'

async function app (t: Test, url = `${BITBUCKET_SERVER_REPOSITORY}.git`) {
  const toml = configToml([{ slug: 'bbs', url, extra: '[projects.webhook]\nsecret_env = "BBS_SECRET"\n' }])
  const h = await harness(t, { CONFIG_PATH: writeConfig(t, toml), BBS_SECRET: SECRET })
  await builderReady(h.app)
  const post = (delivery: Delivery) => h.app.inject({ method: 'POST', url: '/bbs', headers: delivery.headers, payload: delivery.body })
  return { ...h, post }
}

t.test('a signed repo:refs_changed to the branch builds exactly its commit, recorded as bitbucket', async t => {
  const { app: server, post } = await app(t)
  const res = await post(deliverBitbucketServer(bitbucketServerPush({ commit: COMMIT }), SECRET, { id: 'b1f6c0de-0000-4000-8000-000000000001' }))
  t.equal(res.statusCode, 202, res.body)
  t.same(res.json(), { id: 1, project: 'bbs', status: 'queued', commit: COMMIT, ref: 'refs/heads/main', url: '/builds/1' })
  const build = await finished(server, 1)
  t.equal(build.status, 'succeeded')
  t.same(build.trigger, { source: 'bitbucket', event: 'repo:refs_changed', delivery: 'b1f6c0de-0000-4000-8000-000000000001', ref: 'refs/heads/main', commit: COMMIT, sender: 'admin' })
})

t.test('the repository matches by its ssh clone URL or its browse page too', async t => {
  for (const url of ['https://bitbucket.example.com/projects/PROJ/repos/repository/browse', BITBUCKET_SERVER_REPOSITORY]) {
    const { post } = await app(t, url)
    const res = await post(deliverBitbucketServer(bitbucketServerPush({ commit: COMMIT }), SECRET))
    t.equal(res.statusCode, 202, url)
  }
})

t.test('a push of several refs builds the project branch among them', async t => {
  const { app: server, post } = await app(t)
  const payload = bitbucketServerPush({ commit: COMMIT })
  payload.changes.unshift({ ref: { id: 'refs/heads/develop', displayId: 'develop', type: 'BRANCH' }, refId: 'refs/heads/develop', fromHash: '0'.repeat(40), toHash: 'e'.repeat(40), type: 'ADD' })
  const res = await post(deliverBitbucketServer(payload, SECRET))
  t.equal(res.statusCode, 202, res.body)
  t.equal(server.store.get(1)?.trigger.commit, COMMIT)
})

t.test('a tag, another branch, a deleted branch and another repository are ignored with a 200 and the reason', async t => {
  const { app: server, post } = await app(t)
  const cases: Array<[string, Record<string, unknown>, string]> = [
    ['a tag', bitbucketServerPush({ ref: 'refs/tags/v1.2.0' }), 'tag push (refs/tags/v1.2.0)'],
    ['another branch', bitbucketServerPush({ ref: 'develop' }), 'push to refs/heads/develop, not refs/heads/main'],
    ['a deleted branch', bitbucketServerPush({ deleted: true }), 'branch main was deleted'],
    ['another repository', bitbucketServerPush({ repository: 'https://bitbucket.example.com/scm/fork/other' }), `the push is for https://bitbucket.example.com/scm/fork/other.git, not ${BITBUCKET_SERVER_REPOSITORY}.git`]
  ]
  for (const [what, payload, reason] of cases) {
    const res = await post(deliverBitbucketServer(payload, SECRET))
    t.equal(res.statusCode, 200, what)
    t.same(res.json(), { status: 'ignored', reason }, what)
  }
  const other = await post(deliverBitbucketServer({ eventKey: 'repo:modified' }, SECRET, { event: 'repo:modified' }))
  t.same(other.json(), { status: 'ignored', reason: "bitbucket event 'repo:modified' is not a push" })
  t.equal(server.store.get(1), null, 'nothing recorded')
})

t.test('a redelivery with the same X-Request-Id builds once', async t => {
  const { app: server, post } = await app(t)
  const delivery = deliverBitbucketServer(bitbucketServerPush({ commit: COMMIT }), SECRET)
  t.equal((await post(delivery)).statusCode, 202)
  await finished(server, 1)
  const again = await post(delivery)
  t.equal(again.statusCode, 200)
  t.same(again.json(), { id: 1, project: 'bbs', status: 'succeeded', commit: COMMIT, ref: 'refs/heads/main', url: '/builds/1', duplicate: true })
  t.equal(server.store.get(2), null)
})

t.test('Test connection (diagnostics:ping) answers pong, once verified', async t => {
  const { post } = await app(t)
  const ping = await post(deliverBitbucketServer({ test: true }, SECRET, { event: 'diagnostics:ping' }))
  t.equal(ping.statusCode, 200)
  t.same(ping.json(), { status: 'pong' })
  const unsigned = await post(deliverBitbucketServer({ test: true }, 'not-the-secret', { event: 'diagnostics:ping' }))
  t.equal(unsigned.statusCode, 401)
  t.same(unsigned.json(), { statusCode: 401, error: 'Unauthorized', message: 'invalid webhook signature' })
})

t.test('a repo:refs_changed without what Bitbucket always sends is a 400 naming the field', async t => {
  const { post } = await app(t)
  const cases: Array<[unknown, string]> = [
    [{}, 'changes must be an array'],
    [{ changes: ['x'] }, 'changes[0] must be an object'],
    [{ changes: [{ type: 'UPDATE', toHash: COMMIT }] }, 'changes[0].ref.id must be a non-empty string'],
    [{ changes: [{ ref: { id: 'refs/heads/main' }, type: 'UPDATE', toHash: 'abc' }] }, 'changes[0].toHash must be a 40-hex commit SHA']
  ]
  for (const [payload, message] of cases) {
    const res = await post(deliverBitbucketServer(JSON.stringify(payload), SECRET))
    t.equal(res.statusCode, 400, message)
    t.same(res.json(), { statusCode: 400, error: 'Bad Request', message })
  }
})
