import { Writable } from 'node:stream'
import t, { type Test } from 'tap'
import type { InjectOptions } from 'fastify'
import { configToml, harness, TOKENS, writeConfig } from '../helper.js'
import { deliver, HOST_REPOSITORY, pushPayload } from '../fixtures/webhooks/deliveries.js'

// No configured secret reaches a log line (query strings included), a build record or an API answer, whoever
// sends it and wherever it is put.

const COMMIT = '2222222222222222222222222222222222222222'
const GITHUB_SECRET = 'github-webhook-secret-Lq93mX'
const GITLAB_SECRET = 'gitlab-webhook-secret-Pz41nB'
const GIT_TOKEN = 'ghp_scopedGitTokenValue0987654321'
const PROJECT_TOKEN = 'glpat-projectOwnTokenValue1234'
const SECRETS = [...TOKENS, GITHUB_SECRET, GITLAB_SECRET, GIT_TOKEN, PROJECT_TOKEN]

async function app (t: Test) {
  const lines: string[] = []
  const logStream = new Writable({ write (chunk, _encoding, callback) { lines.push(...String(chunk).split('\n').filter(Boolean)); callback() } })
  const toml = configToml([
    { slug: 'github', url: HOST_REPOSITORY.github, extra: '[projects.webhook]\nsecret_env = "GITHUB_WEBHOOK_SECRET"\n' },
    { slug: 'gitlab', url: HOST_REPOSITORY.gitlab, extra: '[projects.webhook]\nsecret_env = "GITLAB_WEBHOOK_SECRET"\n' }
  ]).replace(`url = "${HOST_REPOSITORY.gitlab}"`, `url = "${HOST_REPOSITORY.gitlab}"\ntoken_env = "GITLAB_GIT_TOKEN"`)
  // BuildKit is never reachable: recorded builds stay queued, and nothing here needs one to run.
  const h = await harness(t, {
    CONFIG_PATH: writeConfig(t, toml),
    BUILDKIT_HOST: 'tcp://127.0.0.1:9',
    LOG_LEVEL: 'trace',
    GITHUB_WEBHOOK_SECRET: GITHUB_SECRET,
    GITLAB_WEBHOOK_SECRET: GITLAB_SECRET,
    GIT_TOKEN,
    GITLAB_GIT_TOKEN: PROJECT_TOKEN
  }, { logStream })
  return { ...h, lines }
}

function assertNoSecret (t: Test, what: string, text: string): void {
  for (const secret of SECRETS) t.notMatch(text, secret, `${what}: no ${secret.slice(0, 12)}...`)
}

t.test('tokens in query strings, headers and bodies reach no log line and no answer', async t => {
  const { app: server, lines } = await app(t)
  const answers: string[] = []
  const send = async (options: InjectOptions) => {
    const res = await server.inject(options)
    answers.push(res.body)
    return res
  }
  const bearer = { authorization: `Bearer ${TOKENS[0]}` }
  t.equal((await send({ method: 'GET', url: `/builds?access_token=${TOKENS[1]}` })).statusCode, 401)
  t.equal((await send({ method: 'GET', url: `/builds?token=${encodeURIComponent(GITHUB_SECRET)}&limit=5`, headers: bearer })).statusCode, 400, 'an unknown query parameter')
  t.equal((await send({ method: 'GET', url: `/no-such-route?secret=${GIT_TOKEN}` })).statusCode, 404)
  t.equal((await send({ method: 'GET', url: `/health?t=${PROJECT_TOKEN}` })).statusCode, 200)
  t.equal((await send({ method: 'GET', url: '/builds', headers: { 'x-api-key': GIT_TOKEN, authorization: `Bearer ${TOKENS[1]}`, cookie: `s=${GITLAB_SECRET}` } })).statusCode, 200)
  const signed = deliver('github', { ...pushPayload('github', { commit: COMMIT }), note: `${GIT_TOKEN} ${TOKENS[0]}` }, GITHUB_SECRET)
  t.equal((await send({ method: 'POST', url: `/github?access_token=${TOKENS[0]}`, headers: signed.headers, payload: signed.body })).statusCode, 202)
  const forged = deliver('github', pushPayload('github', { commit: COMMIT }), GITLAB_SECRET)
  t.equal((await send({ method: 'POST', url: '/github', headers: forged.headers, payload: forged.body })).statusCode, 401)
  t.equal((await send({ method: 'POST', url: '/gitlab', headers: { 'x-gitlab-event': 'Push Hook', 'x-gitlab-token': GITHUB_SECRET, 'content-type': 'application/json' }, payload: '{}' })).statusCode, 401)
  t.equal((await send({ method: 'POST', url: '/github', headers: { ...bearer, 'content-type': 'application/json' }, payload: JSON.stringify({ commit: GIT_TOKEN }) })).statusCode, 400)

  t.ok(lines.some(line => line.includes('"url":"/builds"')), 'request lines keep the path')
  t.ok(lines.some(line => line.includes('"url":"/github"')))
  t.notOk(lines.some(line => line.includes('access_token')), 'and drop the query string')
  for (const [i, line] of lines.entries()) assertNoSecret(t, `log line ${i}`, line)
  for (const [i, answer] of answers.entries()) assertNoSecret(t, `answer ${i}`, answer)
})

t.test('a secret logged under any key, by any code, is replaced in the line', async t => {
  const { app: server, lines } = await app(t)
  server.log.info({ note: `a ${GIT_TOKEN} b`, nested: { deep: [PROJECT_TOKEN] } }, `message with ${GITHUB_SECRET}`)
  server.log.error({ err: new Error(`failed with ${TOKENS[0]}`) }, 'error')
  const written = lines.filter(line => line.includes('"note"') || line.includes('"error"'))
  t.equal(written.length, 2)
  for (const line of written) {
    assertNoSecret(t, 'line', line)
    t.match(line, '[redacted]')
  }
})

t.test('a signed delivery that carries secrets is recorded and served with them redacted', async t => {
  const { app: server } = await app(t)
  const payload = pushPayload('github', { commit: COMMIT })
  payload.sender.login = GITLAB_SECRET
  payload.pusher.name = GIT_TOKEN
  const delivery = deliver('github', payload, GITHUB_SECRET, { id: TOKENS[0] })
  const res = await server.inject({ method: 'POST', url: '/github', headers: delivery.headers, payload: delivery.body })
  t.equal(res.statusCode, 202, res.body)
  const record = await server.inject({ method: 'GET', url: '/builds/1', headers: { authorization: `Bearer ${TOKENS[1]}` } })
  t.match(record.json().trigger, { source: 'github', delivery: '[redacted]', sender: '[redacted]', commit: COMMIT })
  assertNoSecret(t, 'record', JSON.stringify(server.store.get(1)))
  assertNoSecret(t, 'answer', record.body)
  const list = await server.inject({ method: 'GET', url: '/builds', headers: { authorization: `Bearer ${TOKENS[1]}` } })
  assertNoSecret(t, 'list', list.body)

  const again = await server.inject({ method: 'POST', url: '/github', headers: delivery.headers, payload: delivery.body })
  t.match(again.json(), { id: 1, duplicate: true }, 'a redelivery is still recognised')

  const branch = deliver('github', pushPayload('github', { ref: `feature/${GIT_TOKEN}`, commit: COMMIT }), GITHUB_SECRET)
  const ignored = await server.inject({ method: 'POST', url: '/github', headers: branch.headers, payload: branch.body })
  t.same(ignored.json(), { status: 'ignored', reason: 'push to refs/heads/feature/[redacted], not refs/heads/main' })
})
