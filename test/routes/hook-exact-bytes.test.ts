import t, { type Test } from 'tap'
import { configToml, harness, TOKENS, writeConfig } from '../helper.js'
import { deliver, HOST_REPOSITORY, HOSTS, pushPayload, SIGNATURE_HEADER, type Delivery, type Host } from '../fixtures/webhooks/deliveries.js'

// shared contract "Exact bytes": the signature is checked over the body exactly as received, whatever the
// Content-Type says; only JSON (any charset), form bodies or no body are accepted, anything else is a 415
// before a byte is parsed.

const COMMIT = 'abcdefabcdefabcdefabcdefabcdefabcdefabcd'
const OTHER = '1111111111111111111111111111111111111111'
const secretOf = (host: Host) => `${host}-exact-bytes-secret-7Hq`
const envName = (host: Host) => `${host.toUpperCase()}_WEBHOOK_SECRET`

async function app (t: Test) {
  const toml = configToml(HOSTS.map(host => ({ slug: host, url: HOST_REPOSITORY[host], extra: `[projects.webhook]\nsecret_env = "${envName(host)}"\n` })))
  const secrets = Object.fromEntries(HOSTS.map(host => [envName(host), secretOf(host)]))
  // BuildKit is never reachable: what is recorded stays queued, and nothing here needs a build to run.
  const h = await harness(t, { CONFIG_PATH: writeConfig(t, toml), BUILDKIT_HOST: 'tcp://127.0.0.1:9', ...secrets })
  const post = (slug: string, delivery: Delivery, headers: Record<string, string | undefined> = {}) => {
    const merged: Record<string, string> = {}
    for (const [name, value] of Object.entries({ ...delivery.headers, ...headers })) if (value !== undefined) merged[name] = value
    return h.app.inject({ method: 'POST', url: `/${slug}`, headers: merged, payload: delivery.body })
  }
  return { ...h, post }
}

const ACCEPTED = 'send application/json (any charset) or application/x-www-form-urlencoded'
const unsupported = (message: string) => ({ statusCode: 415, error: 'Unsupported Media Type', message })

for (const host of HOSTS) {
  t.test(`${host}: a body whose content type is not JSON or a form is 415 and nothing is recorded`, async t => {
    const { app: server, post } = await app(t)
    const signed = deliver(host, pushPayload(host, { commit: COMMIT }), secretOf(host))
    // The signature of an empty body, sent with a body that nothing signed (the attack that used to build).
    const emptySigned = deliver(host, '', secretOf(host))
    const emptySignature = { [SIGNATURE_HEADER[host].name]: emptySigned.headers[SIGNATURE_HEADER[host].name]! }
    const cases: Array<[string, Delivery, Record<string, string | undefined>, string]> = [
      ['text/plain, signed', signed, { 'content-type': 'text/plain' }, `unsupported content type text/plain: ${ACCEPTED}`],
      ['text/plain with a charset, signed', signed, { 'content-type': 'text/plain; charset=utf-8' }, `unsupported content type text/plain: ${ACCEPTED}`],
      ['text/plain, empty-body signature', signed, { 'content-type': 'text/plain', ...emptySignature }, `unsupported content type text/plain: ${ACCEPTED}`],
      ['application/octet-stream', signed, { 'content-type': 'application/octet-stream' }, `unsupported content type application/octet-stream: ${ACCEPTED}`],
      ['no content type', signed, { 'content-type': undefined }, `a body needs a content type: ${ACCEPTED}`],
      ['no content type, empty-body signature', signed, { 'content-type': undefined, ...emptySignature }, `a body needs a content type: ${ACCEPTED}`],
      ['a JSON look-alike type', signed, { 'content-type': 'application/vnd.evil+json' }, `unsupported content type application/vnd.evil+json: ${ACCEPTED}`],
      ['a type Fastify cannot read', signed, { 'content-type': 'json' }, `unsupported content type json: ${ACCEPTED}`]
    ]
    for (const [what, delivery, headers, message] of cases) {
      const res = await post(host, delivery, headers)
      t.equal(res.statusCode, 415, what)
      t.same(res.json(), unsupported(message), what)
    }
    t.equal(server.store.get(1), null, 'nothing recorded')
  })

  t.test(`${host}: JSON with a charset parameter is verified over its bytes and builds`, async t => {
    const { app: server, post } = await app(t)
    const res = await post(host, deliver(host, pushPayload(host, { commit: COMMIT }), secretOf(host)), { 'content-type': 'application/json; charset=utf-8' })
    t.equal(res.statusCode, 202, res.body)
    t.equal(server.store.get(1)?.trigger.commit, COMMIT)
  })

  if (host !== 'gitlab') { // GitLab sends a token, not a signature over the body
    t.test(`${host}: a signature over other bytes is 401, whatever the content type`, async t => {
      const { app: server, post } = await app(t)
      const signedOther = deliver(host, pushPayload(host, { commit: OTHER }), secretOf(host))
      const body = deliver(host, pushPayload(host, { commit: COMMIT }), secretOf(host)).body
      const emptySigned = deliver(host, '', secretOf(host))
      const cases: Array<[string, Delivery]> = [
        ['signed for a different body', { ...signedOther, body }],
        ['the empty-body signature with a body', { ...emptySigned, body }],
        ['the empty-body signature with a form body', { headers: { ...emptySigned.headers, 'content-type': 'application/x-www-form-urlencoded' }, body: `payload=${encodeURIComponent(body)}` }]
      ]
      for (const [what, delivery] of cases) {
        const res = await post(host, delivery)
        t.equal(res.statusCode, 401, what)
      }
      t.equal(server.store.get(1), null, 'nothing recorded')
    })
  }
}

t.test('a JSON body in another charset is decoded as that charset once verified', async t => {
  const { app: server, post } = await app(t)
  const payload = pushPayload('github', { commit: COMMIT })
  payload.sender.login = 'zoë'
  const latin1 = Buffer.from(JSON.stringify(payload), 'latin1')
  const signed = deliver('github', payload, secretOf('github'))
  const { createHmac } = await import('node:crypto')
  const signature = `sha256=${createHmac('sha256', secretOf('github')).update(latin1).digest('hex')}`
  const res = await server.inject({ method: 'POST', url: '/github', headers: { ...signed.headers, 'content-type': 'application/json; charset=ISO-8859-1', 'x-hub-signature-256': signature }, payload: latin1 })
  t.equal(res.statusCode, 202, res.body)
  t.equal(server.store.get(1)?.trigger.sender, 'zoë')
  const unknown = await post('github', signed, { 'content-type': 'application/json; charset=no-such-charset' })
  t.equal(unknown.statusCode, 415)
  t.same(unknown.json(), { statusCode: 415, error: 'Unsupported Media Type', message: "charset 'no-such-charset' is not supported" })
})

t.test('API calls: no body, a JSON body, or curl -d (form content type with a JSON body); nothing else', async t => {
  const { app: server } = await app(t)
  const bearer = { authorization: `Bearer ${TOKENS[0]}` }
  const post = (headers: Record<string, string>, payload?: string) => server.inject({ method: 'POST', url: '/github', headers: { ...bearer, ...headers }, ...(payload === undefined ? {} : { payload }) })
  const json = await post({ 'content-type': 'application/json' }, JSON.stringify({ commit: COMMIT }))
  t.equal(json.statusCode, 202, json.body)
  const curl = await post({ 'content-type': 'application/x-www-form-urlencoded' }, JSON.stringify({ commit: OTHER }))
  t.equal(curl.statusCode, 202, curl.body)
  const text = await post({ 'content-type': 'text/plain' }, JSON.stringify({ commit: COMMIT }))
  t.equal(text.statusCode, 415)
  t.same(text.json(), unsupported(`unsupported content type text/plain: ${ACCEPTED}`))
  const wrongToken = await server.inject({ method: 'POST', url: '/github', headers: { authorization: 'Bearer wrong', 'content-type': 'text/plain' }, payload: '{}' })
  t.equal(wrongToken.statusCode, 401, 'a bearer call is authenticated before its body type is looked at')
})

t.test('a bad signature with a text/plain body is 415 too: the type is refused before any signature is looked at', async t => {
  const { post } = await app(t)
  const bad = deliver('github', pushPayload('github', { commit: COMMIT }), 'not-the-secret')
  for (const slug of ['github', 'nosuch']) {
    const res = await post(slug, bad, { 'content-type': 'text/plain' })
    t.equal(res.statusCode, 415, slug)
    t.same(res.json(), unsupported(`unsupported content type text/plain: ${ACCEPTED}`), slug)
  }
})
