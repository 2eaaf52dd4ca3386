import http from 'node:http'
import { Writable } from 'node:stream'
import t, { type Test } from 'tap'
import { builderReady, configToml, finished, harness, TOKENS, writeConfig } from '../helper.js'
import { deliver, fixture, HOST_REPOSITORY, HOSTS, pushPayload, SIGNATURE_HEADER, ZERO, type Delivery, type Host } from '../fixtures/webhooks/deliveries.js'

const COMMIT = '1234567890abcdef1234567890abcdef12345678'
const secretOf = (host: Host) => `${host}-webhook-secret-Zq81xW`
const envName = (host: Host) => `${host.toUpperCase()}_WEBHOOK_SECRET`

/** One project per host (slug = the host's name) for the fixture repository, each with its own secret. */
async function app (t: Test, options: { extra?: string, logStream?: Writable, env?: Record<string, string> } = {}) {
  const toml = configToml(HOSTS.map(host => ({ slug: host, url: HOST_REPOSITORY[host], extra: `[projects.webhook]\nsecret_env = "${envName(host)}"\n${host === 'github' ? options.extra ?? '' : ''}` })))
  const secrets = Object.fromEntries(HOSTS.map(host => [envName(host), secretOf(host)]))
  const h = await harness(t, { CONFIG_PATH: writeConfig(t, toml), ...secrets, ...options.env }, options.logStream === undefined ? {} : { logStream: options.logStream })
  await builderReady(h.app)
  const post = (slug: string, delivery: Delivery, headers: Record<string, string> = {}) =>
    h.app.inject({ method: 'POST', url: `/${slug}`, headers: { ...delivery.headers, ...headers }, payload: delivery.body })
  return { ...h, post }
}

const unauthorized = { statusCode: 401, error: 'Unauthorized', message: 'invalid webhook signature' }

for (const host of HOSTS) {
  t.test(`${host}: a signed push to the branch builds exactly its commit`, async t => {
    const { app: server, post } = await app(t)
    const delivery = deliver(host, pushPayload(host, { commit: COMMIT }), secretOf(host), { id: `${host}-delivery-1` })
    const res = await post(host, delivery)
    t.equal(res.statusCode, 202, res.body)
    t.same(res.json(), { id: 1, project: host, status: 'queued', commit: COMMIT, ref: 'refs/heads/main', url: '/builds/1' })
    const build = await finished(server, 1)
    t.equal(build.status, 'succeeded')
    t.match(build.trigger, { source: host, delivery: `${host}-delivery-1`, ref: 'refs/heads/main', commit: COMMIT, sender: /\w/ })
  })

  t.test(`${host}: a wrong, missing, truncated or mis-prefixed signature, or one over another body, is 401`, async t => {
    const { app: server, post } = await app(t)
    const good = deliver(host, pushPayload(host, { commit: COMMIT }), secretOf(host))
    const { name, prefix } = SIGNATURE_HEADER[host]
    const value = good.headers[name]!
    const wrong = deliver(host, pushPayload(host, { commit: COMMIT }), 'not-the-secret')
    const cases: Array<[string, Delivery]> = [
      ['wrong secret', wrong],
      ['missing', { ...good, headers: Object.fromEntries(Object.entries(good.headers).filter(([key]) => !/signature|token/.test(key))) }],
      ['truncated', { ...good, headers: { ...good.headers, [name]: value.slice(0, -1) } }],
      ['wrong prefix', { ...good, headers: { ...good.headers, [name]: prefix === '' ? `sha256=${value}` : value.replace(prefix, 'sha1=') } }],
      ['empty', { ...good, headers: { ...good.headers, [name]: '' } }]
    ]
    // GitLab sends its secret as a token, not a signature over the body.
    if (host !== 'gitlab') cases.push(['another body (one byte changed)', { ...good, body: good.body.replace(COMMIT, COMMIT.replace(/.$/, '9')) }])
    for (const [what, delivery] of cases) {
      const res = await post(host, delivery)
      t.equal(res.statusCode, 401, what)
      t.same(res.json(), unauthorized, what)
      t.equal(res.headers['www-authenticate'], 'Bearer realm="build-hook"', what)
    }
    t.equal(server.store.get(1), null, 'nothing recorded')
  })

  t.test(`${host}: another branch, a tag, a deleted branch and another repository are ignored with a 200`, async t => {
    const { app: server, post } = await app(t)
    const deletion = host === 'gitea' || host === 'forgejo' || host === 'gogs'
      ? deliver(host, fixture('gitea-delete'), secretOf(host), { event: 'delete' })
      : deliver(host, pushPayload(host, { deleted: true }), secretOf(host))
    const cases: Array<[string, Delivery, string | RegExp]> = [
      ['another branch', deliver(host, pushPayload(host, { ref: 'develop' }), secretOf(host)), 'push to refs/heads/develop, not refs/heads/main'],
      ['a tag', deliver(host, pushPayload(host, { ref: 'refs/tags/v1.2.0' }), secretOf(host), host === 'gitlab' ? { event: 'Tag Push Hook' } : {}), 'tag push (refs/tags/v1.2.0)'],
      ['a deleted branch', deletion, deletion.headers[`x-${host}-event`] === 'delete' ? `${host} event 'delete' is not a push` : 'branch main was deleted'],
      ['another repository', deliver(host, pushPayload(host, { repository: 'https://elsewhere.example/fork/hello' }), secretOf(host)), /^the push is for https:\/\/elsewhere\.example\/fork\/hello(\.git)?, not /]
    ]
    for (const [what, delivery, reason] of cases) {
      const res = await post(host, delivery)
      t.equal(res.statusCode, 200, what)
      t.match(res.json(), { status: 'ignored', reason }, what)
    }
    t.equal(server.store.get(1), null, 'nothing recorded')
  })

  t.test(`${host}: the same delivery twice builds once`, async t => {
    const { app: server, post } = await app(t)
    const delivery = deliver(host, pushPayload(host, { commit: COMMIT }), secretOf(host))
    t.equal((await post(host, delivery)).statusCode, 202)
    await finished(server, 1)
    const again = await post(host, delivery)
    t.equal(again.statusCode, 200)
    t.match(again.json(), { id: 1, status: 'succeeded', duplicate: true })
    t.equal(server.store.get(2), null)
  })

  t.test(`${host}: malformed JSON with a valid signature is 400`, async t => {
    const { post } = await app(t)
    const res = await post(host, deliver(host, '{"ref": "refs/heads/main", ', secretOf(host)))
    t.equal(res.statusCode, 400)
    t.same(res.json(), { statusCode: 400, error: 'Bad Request', message: 'the body is not valid JSON' })
  })
}

t.test('a ping answers pong (GitHub when a hook is created; Bitbucket Server-style diagnostics:ping)', async t => {
  const { post } = await app(t)
  const github = await post('github', deliver('github', fixture('github-ping'), secretOf('github'), { event: 'ping' }))
  t.equal(github.statusCode, 200)
  t.same(github.json(), { status: 'pong' })
  const bitbucket = await post('bitbucket', deliver('bitbucket', { test: true }, secretOf('bitbucket'), { event: 'diagnostics:ping' }))
  t.same(bitbucket.json(), { status: 'pong' })
  const unsigned = await post('github', deliver('github', fixture('github-ping'), 'wrong', { event: 'ping' }))
  t.equal(unsigned.statusCode, 401, 'a ping is verified too')
})

t.test('events that are not pushes are ignored', async t => {
  const { post } = await app(t)
  const res = await post('github', deliver('github', { action: 'opened', repository: fixture('github-push').repository }, secretOf('github'), { event: 'pull_request' }))
  t.same(res.json(), { status: 'ignored', reason: "github event 'pull_request' is not a push" })
  const gitlab = await post('gitlab', deliver('gitlab', { object_kind: 'merge_request' }, secretOf('gitlab'), { event: 'Merge Request Hook' }))
  t.same(gitlab.json(), { status: 'ignored', reason: "gitlab event 'Merge Request Hook' is not a push" })
})

t.test('GitHub and Gitea form-encoded deliveries (payload=...) are verified over the form body and build', async t => {
  const { post } = await app(t)
  for (const host of ['github', 'gitea'] as const) {
    const res = await post(host, deliver(host, pushPayload(host, { commit: COMMIT }), secretOf(host), { form: true }))
    t.equal(res.statusCode, 202, host)
  }
  const notJson = await post('github', deliver('github', 'nothing', secretOf('github'), { form: true }))
  t.same(notJson.json(), { statusCode: 400, error: 'Bad Request', message: 'the body is not valid JSON' })
  const signedForm = deliver('github', 'other=1', secretOf('github'))
  const noPayload = await post('github', { ...signedForm, headers: { ...signedForm.headers, 'content-type': 'application/x-www-form-urlencoded' } })
  t.same(noPayload.json(), { statusCode: 400, error: 'Bad Request', message: 'the form body has no payload field' })
})

t.test('Forgejo and Gitea are recognised first although they also send GitHub and Gogs headers', async t => {
  const { app: server, post } = await app(t)
  await post('forgejo', deliver('forgejo', pushPayload('forgejo', { commit: COMMIT }), secretOf('forgejo')))
  await post('gitea', deliver('gitea', pushPayload('gitea', { commit: 'b'.repeat(40) }), secretOf('gitea')))
  t.same([server.store.get(1)!.trigger.source, server.store.get(2)!.trigger.source], ['forgejo', 'gitea'])
})

t.test('a bearer token is valid on the hook route whatever host sent it (Gitea and Forgejo can add one)', async t => {
  const { post } = await app(t)
  const unsigned = deliver('gitea', pushPayload('gitea', { commit: COMMIT }), 'not-the-secret')
  const res = await post('gitea', unsigned, { authorization: `Bearer ${TOKENS[1]}` })
  t.equal(res.statusCode, 202)
  const wrongBearer = await post('gitea', unsigned, { authorization: 'Bearer nope' })
  t.equal(wrongBearer.statusCode, 401, 'a wrong bearer does not make a wrong signature right')
})

t.test('a webhook and a CI job announcing the same push build once', async t => {
  const { post, app: server } = await app(t)
  t.equal((await post('github', deliver('github', pushPayload('github', { commit: COMMIT }), secretOf('github')))).statusCode, 202)
  const ci = await server.inject({ method: 'POST', url: '/github', headers: { authorization: `Bearer ${TOKENS[0]}`, 'content-type': 'application/json' }, payload: { commit: COMMIT } })
  t.equal(ci.statusCode, 200)
  t.match(ci.json(), { id: 1, duplicate: true })
})

t.test('the legacy SHA-1 signature only where the project allows it', async t => {
  const sha1Only = (delivery: Delivery): Delivery => ({ ...delivery, headers: Object.fromEntries(Object.entries(delivery.headers).filter(([key]) => key !== 'x-hub-signature-256')) })
  const strict = await app(t)
  t.equal((await strict.post('github', sha1Only(deliver('github', pushPayload('github', { commit: COMMIT }), secretOf('github'))))).statusCode, 401)
  const lenient = await app(t, { extra: 'allow_sha1 = true\n' })
  t.equal((await lenient.post('github', sha1Only(deliver('github', pushPayload('github', { commit: COMMIT }), secretOf('github'))))).statusCode, 202)
  const badSha1 = sha1Only(deliver('github', pushPayload('github', { commit: 'b'.repeat(40) }), 'wrong'))
  t.equal((await lenient.post('github', badSha1)).statusCode, 401)
})

t.test('an unauthenticated caller cannot tell an existing slug from a missing one', async t => {
  const { post } = await app(t)
  const signed = deliver('github', pushPayload('github', { commit: COMMIT }), secretOf('github'))
  const forged = deliver('github', pushPayload('github', { commit: COMMIT }), 'guess')
  const missing = await post('no-such-project', signed)
  const existing = await post('github', forged)
  t.same([missing.statusCode, missing.json()], [existing.statusCode, existing.json()])
  const plain = await post('no-such-project', { headers: {}, body: '' })
  t.equal(plain.statusCode, 401)
})

t.test('a project without a webhook secret takes bearer tokens only', async t => {
  const h = await harness(t, { CONFIG_PATH: writeConfig(t, configToml([{ slug: 'github', url: HOST_REPOSITORY.github }])) })
  const res = await h.app.inject({ method: 'POST', url: '/github', ...(({ headers, body }) => ({ headers, payload: body }))(deliver('github', pushPayload('github'), 'anything')) })
  t.equal(res.statusCode, 401)
})

t.test('a secret variable that the config names but the environment lacks stops start-up, naming it', async t => {
  const toml = configToml([{ slug: 'github', url: HOST_REPOSITORY.github, extra: '[projects.webhook]\nsecret_env = "MISSING_SECRET"\n' }, { slug: 'other', extra: '[projects.webhook]\nsecret_env = "EMPTY_SECRET"\n' }])
  const file = writeConfig(t, toml)
  await t.rejects(harness(t, { CONFIG_PATH: file, EMPTY_SECRET: '' }), {
    code: 'BH_CONFIG_ENV_MISSING',
    message: `Environment variables named in ${file} are not set (2 variables):\n  - MISSING_SECRET is not set (named by projects[0].webhook.secret_env)\n  - EMPTY_SECRET is set but empty (named by projects[1].webhook.secret_env)`
  })
})

t.test('no secret reaches the log, even from refused deliveries', async t => {
  let logged = ''
  const logStream = new Writable({ write (chunk, _encoding, callback) { logged += String(chunk); callback() } })
  const { post } = await app(t, { logStream, env: { LOG_LEVEL: 'debug' } })
  for (const host of HOSTS) {
    await post(host, deliver(host, pushPayload(host, { commit: COMMIT }), secretOf(host)))
    await post(host, deliver(host, pushPayload(host), 'wrong-secret-value'))
  }
  t.match(logged, 'Webhook signature refused.')
  for (const host of HOSTS) t.notMatch(logged, secretOf(host), host)
})

t.test('a body over 25 MB is refused with 413 before it has been read', async t => {
  const { app: server } = await app(t)
  const base = await server.listen({ host: '127.0.0.1', port: 0 })
  const url = new URL('/github', base)
  const sent = { bytes: 0 }
  const res = await new Promise<{ status: number, body: string }>((resolve, reject) => {
    const request = http.request(url, { method: 'POST', headers: { 'content-type': 'application/json', 'content-length': String(26 * 1024 * 1024), 'x-github-event': 'push' } }, response => {
      let body = ''
      response.on('data', chunk => { body += String(chunk) })
      response.on('end', () => { request.destroy(); resolve({ status: response.statusCode!, body }) })
    })
    request.on('error', reject)
    const chunk = Buffer.alloc(64 * 1024, 'a')
    request.write(chunk, () => { sent.bytes += chunk.length })
  })
  t.equal(res.status, 413)
  t.same(JSON.parse(res.body), { statusCode: 413, error: 'Payload Too Large', message: 'Request body is too large' })
  t.ok(sent.bytes <= 64 * 1024, 'answered after 64 KiB of 26 MiB')
})

t.test('GitHub push payloads of each documented shape give the branch and commit', async t => {
  const { post } = await app(t)
  const payload = pushPayload('github', { commit: COMMIT })
  payload.repository.clone_url = HOST_REPOSITORY.github.toUpperCase() + '/' // case and trailing slash do not matter
  payload.repository.html_url = null
  const res = await post('github', deliver('github', payload, secretOf('github')))
  t.equal(res.statusCode, 202)
  const zero = await post('github', deliver('github', { ...pushPayload('github'), after: ZERO, deleted: false }, secretOf('github')))
  t.same(zero.json(), { status: 'ignored', reason: 'branch main was deleted' }, 'an all-zero after is a deletion')
})
