import t from 'tap'
import type { FastifyInstance } from 'fastify'
import { createHmac } from 'node:crypto'
import { Writable } from 'node:stream'
import { build, configToml, TOKENS, writeConfig } from '../helper.js'

/** A bearer-protected route and an open one, declared the way every route of the service is. */
function testRoutes (app: FastifyInstance): void {
  app.register(async (child) => {
    child.post('/protected', { config: { auth: 'bearer' } }, async () => ({ ok: true }))
    child.get('/open', { config: { auth: 'none' } }, async () => ({ ok: true }))
  })
}

const refused = (message: string) => ({ statusCode: 401, error: 'Unauthorized', message })

t.test('a protected route refuses a request without a token, saying how to send one', async t => {
  const app = await build(t, {}, {}, testRoutes)
  const res = await app.inject({ method: 'POST', url: '/protected' })
  t.equal(res.statusCode, 401)
  t.equal(res.headers['www-authenticate'], 'Bearer realm="build-hook"')
  t.match(res.headers['content-type'], /^application\/json/)
  t.same(res.json(), refused('missing authorization header: send Authorization: Bearer <token>'))
})

t.test('a protected route refuses a wrong token without repeating it', async t => {
  const app = await build(t, {}, {}, testRoutes)
  for (const authorization of ['Bearer wrong-token', `Bearer ${TOKENS[0]}x`, `bearer ${TOKENS[1].slice(0, -1)}`]) {
    const res = await app.inject({ method: 'POST', url: '/protected', headers: { authorization } })
    t.equal(res.statusCode, 401, authorization)
    t.equal(res.headers['www-authenticate'], 'Bearer realm="build-hook", error="invalid_token"', authorization)
    t.same(res.json(), refused('the bearer token is not valid'), authorization)
  }
})

t.test('a protected route refuses Basic credentials, an empty bearer, a bare scheme or a bare token, naming the form expected', async t => {
  const app = await build(t, {}, {}, testRoutes)
  const headers = [
    `Basic ${Buffer.from(`user:${TOKENS[0]}`).toString('base64')}`,
    `Basic ${TOKENS[0]}`,
    'Bearer ',
    'Bearer    ',
    'Bearer',
    TOKENS[0]
  ]
  for (const authorization of headers) {
    const res = await app.inject({ method: 'POST', url: '/protected', headers: { authorization } })
    t.equal(res.statusCode, 401, authorization)
    t.equal(res.headers['www-authenticate'], 'Bearer realm="build-hook", error="invalid_token"', authorization)
    t.same(res.json(), refused('the Authorization header must be of the form Bearer <token>'), authorization)
  }
})

t.test('every configured token is accepted, and the scheme name is case-insensitive', async t => {
  const app = await build(t, {}, {}, testRoutes)
  for (const authorization of [`Bearer ${TOKENS[0]}`, `Bearer ${TOKENS[1]}`, `bearer ${TOKENS[0]}`, `BEARER ${TOKENS[1]}`]) {
    const res = await app.inject({ method: 'POST', url: '/protected', headers: { authorization } })
    t.equal(res.statusCode, 200, authorization)
    t.same(res.json(), { ok: true })
  }
})

t.test('BEARER_TOKENS entries are trimmed and empty entries dropped', async t => {
  const app = await build(t, { BEARER_TOKENS: ' ,alpha , ,beta,,' }, {}, testRoutes)
  for (const token of ['alpha', 'beta']) {
    const res = await app.inject({ method: 'POST', url: '/protected', headers: { authorization: `Bearer ${token}` } })
    t.equal(res.statusCode, 200, token)
  }
  const empty = await app.inject({ method: 'POST', url: '/protected', headers: { authorization: 'Bearer  ' } })
  t.equal(empty.statusCode, 401, 'an empty entry never becomes an empty token')
})

t.test('routes that declare no auth answer without a token: there is no global hook', async t => {
  const app = await build(t, {}, {}, testRoutes)
  const res = await app.inject({ method: 'GET', url: '/open' })
  t.equal(res.statusCode, 200)
})

t.test('a route that declares no auth makes start-up fail', async t => {
  const promise = build(t, {}, {}, app => {
    app.register(async (child) => {
      child.post('/forgot', async () => ({ ok: true }))
    })
  })
  await t.rejects(promise, { code: 'BH_ROUTE_AUTH_MISSING', message: "Route POST /forgot declares no auth: set config.auth to 'bearer', 'webhook' or 'none'" })
})

t.test('a route with an unknown auth kind makes start-up fail', async t => {
  const promise = build(t, {}, {}, app => {
    app.register(async (child) => {
      child.get('/odd', { config: { auth: 'basic' as 'none' } }, async () => ({ ok: true }))
    })
  })
  await t.rejects(promise, { code: 'BH_ROUTE_AUTH_MISSING' })
})

t.test("a context's defaultAuth covers the routes in it, and in what it registers, that declare none; nothing outside it", async t => {
  const app = await build(t, {}, {}, app => {
    app.register(async (child) => {
      child.decorate('defaultAuth', 'none')
      child.get('/theirs', async () => ({ ok: true }))
      child.get('/declared', { config: { auth: 'bearer' } }, async () => ({ ok: true }))
      await child.register(async (grandchild) => { grandchild.get('/deeper', async () => ({ ok: true })) })
    })
    app.register(async (sibling) => {
      sibling.get('/sibling', { config: { auth: 'bearer' } }, async () => ({ ok: true }))
    })
  })
  t.equal((await app.inject({ method: 'GET', url: '/theirs' })).statusCode, 200)
  t.equal((await app.inject({ method: 'GET', url: '/deeper' })).statusCode, 200)
  t.equal((await app.inject({ method: 'GET', url: '/declared' })).statusCode, 401, 'a route that declares its auth keeps it')
  t.equal((await app.inject({ method: 'GET', url: '/sibling' })).statusCode, 401)
  t.notOk(app.defaultAuth, 'the root has none')
  await t.rejects(build(t, {}, {}, app => {
    app.register(async (child) => { child.decorate('defaultAuth', 'none') })
    app.register(async (other) => { other.get('/elsewhere', async () => ({ ok: true })) })
  }), { code: 'BH_ROUTE_AUTH_MISSING', message: /^Route GET \/elsewhere declares no auth/ })
})

t.test("a route's config says the auth it got, its own or its context's default", async t => {
  const seen = new Map<string, unknown>()
  const app = await build(t, {}, {}, app => {
    app.register(async (child) => {
      child.decorate('defaultAuth', 'none')
      child.get('/defaulted', async (request) => { seen.set('defaulted', request.routeOptions.config.auth); return {} })
    })
    app.register(async (child) => {
      child.get('/own', { config: { auth: 'bearer' } }, async (request) => { seen.set('own', request.routeOptions.config.auth); return {} })
    })
  })
  await app.inject({ method: 'GET', url: '/defaulted' })
  await app.inject({ method: 'GET', url: '/own', headers: { authorization: `Bearer ${TOKENS[0]}` } })
  t.same(Object.fromEntries(seen), { defaulted: 'none', own: 'bearer' })
})

t.test("a route's own onRequest hooks run after authentication", async t => {
  const seen: string[] = []
  const app = await build(t, {}, {}, app => {
    app.register(async (child) => {
      child.get('/hooked', { config: { auth: 'bearer' }, onRequest: async () => { seen.push('own hook') } }, async () => ({ ok: true }))
    })
  })
  const refused = await app.inject({ method: 'GET', url: '/hooked' })
  t.equal(refused.statusCode, 401)
  t.same(seen, [], 'the route hook did not run for an unauthenticated request')
  const ok = await app.inject({ method: 'GET', url: '/hooked', headers: { authorization: `Bearer ${TOKENS[0]}` } })
  t.equal(ok.statusCode, 200)
  t.same(seen, ['own hook'])
})

t.test('HEAD of a protected GET route is protected too', async t => {
  const app = await build(t, {}, {}, app => {
    app.register(async (child) => {
      child.get('/secret', { config: { auth: 'bearer' } }, async () => ({ ok: true }))
    })
  })
  const res = await app.inject({ method: 'HEAD', url: '/secret' })
  t.equal(res.statusCode, 401)
})

t.test('with no token in production, start-up fails with a clear message', async t => {
  for (const value of [undefined, '', ' , ']) {
    await t.rejects(build(t, { NODE_ENV: 'production', BEARER_TOKENS: value }), {
      code: 'BH_NO_TOKENS',
      message: 'BEARER_TOKENS is empty: set at least one token (comma separated) when NODE_ENV=production'
    }, String(value))
  }
})

t.test('with no token outside production, a random token is generated, announced once and accepted', async t => {
  const announced: string[] = []
  const app = await build(t, { BEARER_TOKENS: undefined }, { announceToken: token => announced.push(token) }, testRoutes)
  t.equal(announced.length, 1)
  const token = announced[0]!
  t.match(token, /^[A-Za-z0-9_-]{43}$/, '32 random bytes, base64url')
  const ok = await app.inject({ method: 'POST', url: '/protected', headers: { authorization: `Bearer ${token}` } })
  t.equal(ok.statusCode, 200)
  const none = await app.inject({ method: 'POST', url: '/protected' })
  t.equal(none.statusCode, 401, 'the service never runs unauthenticated')
})

t.test('a generated token is a secret as a configured one is: no log line carries it, and the redactor knows it', async t => {
  const announced: string[] = []
  const lines: string[] = []
  const logStream = new Writable({ write: (chunk, _encoding, done) => { lines.push(String(chunk)); done() } })
  const app = await build(t, { BEARER_TOKENS: undefined, LOG_LEVEL: 'info' }, { announceToken: token => announced.push(token), logStream })
  const token = announced[0]!
  app.log.info({ header: `Bearer ${token}` }, `a line that quotes ${token}`)
  const line = lines.find(written => written.includes('a line that quotes'))
  t.ok(line)
  t.notMatch(line, token)
  t.match(JSON.parse(line!), { header: 'Bearer [redacted]', msg: 'a line that quotes [redacted]' })
  t.equal(app.secrets.redactor.redact(`token=${token}`), 'token=[redacted]', 'nor a build log, a record or an error')
})

t.test('two development runs get different tokens', async t => {
  const announced: string[] = []
  await build(t, { BEARER_TOKENS: undefined }, { announceToken: token => announced.push(token) })
  await build(t, { BEARER_TOKENS: undefined }, { announceToken: token => announced.push(token) })
  t.equal(announced.length, 2)
  t.not(announced[0], announced[1])
})

t.test("a webhook route's own preValidation hooks run after the signature check; a delivery without a body cannot be verified", async t => {
  const seen: string[] = []
  const app = await build(t, {}, {}, app => {
    app.register(async (child) => {
      child.post('/test-hooks/:slug', { config: { auth: 'webhook' }, preValidation: async () => { seen.push('own hook') } }, async () => ({ ok: true }))
    })
  })
  const unsigned = await app.inject({ method: 'POST', url: '/test-hooks/demo', headers: { 'x-github-event': 'push', 'x-hub-signature-256': 'sha256=00' } })
  t.equal(unsigned.statusCode, 401)
  t.same(unsigned.json(), { statusCode: 401, error: 'Unauthorized', message: 'invalid webhook signature' })
  t.same(seen, [])
  const bearer = await app.inject({ method: 'POST', url: '/test-hooks/demo', headers: { authorization: `Bearer ${TOKENS[0]}` } })
  t.equal(bearer.statusCode, 200)
  t.same(seen, ['own hook'])
})

t.test('a webhook route whose body a parser turned into something else is refused for its type, even with the right signature', async t => {
  const app = await build(t, { CONFIG_PATH: writeConfig(t, configToml([{ slug: 'demo', extra: '[projects.webhook]\nsecret_env = "DEMO_SECRET"\n' }])), DEMO_SECRET: 'demo-secret-value' }, {}, app => {
    // Fastify's own text/plain parser hands the route a string: no signature check may run over anything but bytes.
    app.register(async (child) => {
      child.post('/parsed-hooks/:slug', { config: { auth: 'webhook' } }, async () => ({ ok: true }))
    })
  })
  const sign = (body: string) => `sha256=${createHmac('sha256', 'demo-secret-value').update(body).digest('hex')}`
  for (const signed of ['unsigned text', '']) { // signed as the text, or as the empty body that a string is not
    const res = await app.inject({ method: 'POST', url: '/parsed-hooks/demo', headers: { 'x-github-event': 'push', 'x-hub-signature-256': sign(signed), 'content-type': 'text/plain' }, payload: 'unsigned text' })
    t.equal(res.statusCode, 415, `signed as '${signed}'`)
    t.same(res.json(), { statusCode: 415, error: 'Unsupported Media Type', message: 'unsupported content type text/plain: send application/json (any charset) or application/x-www-form-urlencoded' })
  }
})

t.test('a signature header without its event header is told which event header its host sends, for any slug', async t => {
  const app = await build(t, { CONFIG_PATH: writeConfig(t, configToml([{ slug: 'demo', extra: '[projects.webhook]\nsecret_env = "DEMO_SECRET"\n' }])), DEMO_SECRET: 'demo-secret-value' }, {}, app => {
    app.register(async (child) => {
      child.post('/event-hooks/:slug', { config: { auth: 'webhook' } }, async () => ({ ok: true }))
    })
  })
  const cases: Array<[Record<string, string>, string]> = [
    [{ 'x-hub-signature-256': 'sha256=00' }, 'X-Hub-Signature-256 came without an event header: a GitHub delivery needs X-GitHub-Event (or send Authorization: Bearer <token>)'],
    [{ 'x-hub-signature-256': 'sha256=00', 'x-hub-signature': 'sha1=00' }, 'X-Hub-Signature-256 came without an event header: a GitHub delivery needs X-GitHub-Event (or send Authorization: Bearer <token>)'],
    [{ 'x-hub-signature': 'sha256=00' }, 'X-Hub-Signature came without an event header: a Bitbucket delivery needs X-Event-Key (or send Authorization: Bearer <token>)'],
    [{ 'x-gitlab-token': 'demo-secret-value' }, 'X-Gitlab-Token came without an event header: a GitLab delivery needs X-Gitlab-Event (or send Authorization: Bearer <token>)'],
    [{ 'x-gitea-signature': '00', 'x-gogs-signature': '00', 'x-hub-signature-256': 'sha256=00' }, 'X-Gitea-Signature came without an event header: a Gitea delivery needs X-Gitea-Event (or send Authorization: Bearer <token>)'],
    [{ 'x-forgejo-signature': '00', 'x-gitea-signature': '00' }, 'X-Forgejo-Signature came without an event header: a Forgejo delivery needs X-Forgejo-Event (or send Authorization: Bearer <token>)'],
    [{ 'x-gogs-signature': '00' }, 'X-Gogs-Signature came without an event header: a Gogs delivery needs X-Gogs-Event (or send Authorization: Bearer <token>)']
  ]
  for (const [headers, message] of cases) {
    for (const url of ['/event-hooks/demo', '/event-hooks/nosuch']) {
      const res = await app.inject({ method: 'POST', url, headers: { ...headers, 'content-type': 'application/json' }, payload: '{}' })
      t.equal(res.statusCode, 401, `${url} ${message}`)
      t.equal(res.headers['www-authenticate'], 'Bearer realm="build-hook"')
      t.same(res.json(), { statusCode: 401, error: 'Unauthorized', message }, url)
    }
  }
  const bearer = await app.inject({ method: 'POST', url: '/event-hooks/demo', headers: { 'x-hub-signature-256': 'sha256=00', authorization: `Bearer ${TOKENS[0]}` } })
  t.equal(bearer.statusCode, 200, 'a bearer token is still a bearer call')
  const wrong = await app.inject({ method: 'POST', url: '/event-hooks/demo', headers: { 'x-hub-signature-256': 'sha256=00', authorization: 'Bearer wrong' } })
  t.same(wrong.json(), { statusCode: 401, error: 'Unauthorized', message: 'the bearer token is not valid' }, 'with an Authorization header, the token is what is judged')
})
