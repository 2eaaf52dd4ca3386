import { Writable } from 'node:stream'
import t from 'tap'
import { pino, stdSerializers } from 'pino'
import { censorChildBindings, censorSecrets, censorSerialized, REDACT_PATHS, serializeRequest } from '../../lib/log-redaction.js'
import { LogLineRedactor } from '../../lib/secrets/log-line-redactor.js'
import { Redactor } from '../../lib/secrets/redactor.js'
import { build, TOKENS } from '../helper.js'

function capture (): { stream: Writable, text: () => string } {
  const chunks: string[] = []
  return {
    stream: new Writable({ write (chunk, _enc, cb) { chunks.push(String(chunk)); cb() } }),
    text: () => chunks.join('')
  }
}

/** A logger censoring as the service's does (app.ts). */
function censoringLogger (out: Writable, serializers: Record<string, (value: never) => unknown> = {}) {
  return pino({ formatters: { log: censorSecrets }, serializers: { err: censorSerialized(stdSerializers.err), ...serializers } }, out)
}

t.test('secret headers and fields are censored wherever they are logged', async t => {
  const out = capture()
  const logged = {
    request: { headers: { authorization: 'Bearer s1', 'x-hub-signature-256': 'sha256=s2', 'x-gitlab-token': 's3', 'user-agent': 'GitHub-Hookshot' } },
    headers: { 'x-gitea-signature': 's4', 'x-forgejo-signature': 's5', 'x-gogs-signature': 's6', 'x-hub-signature': 's7', cookie: 's13' },
    env: { BEARER_TOKENS: 's8', GIT_TOKEN: 's9', GITHUB_TOKEN: 's14' },
    token: 's10',
    build: { secret: 's11', GIT_AUTH_TOKEN: 's12', password: 's15', tokens: ['s16'] },
    project: 'demo'
  }
  const before = JSON.stringify(logged)
  censoringLogger(out.stream).info(logged, 'hello')
  const line = JSON.parse(out.text()) as typeof logged
  for (let i = 1; i <= 16; i++) t.notMatch(out.text(), new RegExp(`\\bs${i}\\b`), `s${i} is censored`)
  t.equal(line.request.headers['user-agent'], 'GitHub-Hookshot', 'harmless headers stay')
  t.same(line.build.tokens, '[redacted]')
  t.equal(line.project, 'demo')
  t.equal(JSON.stringify(logged), before, 'the object logged is left as it was: censored in a copy')
  t.ok(REDACT_PATHS.includes('*.headers["x-hub-signature-256"]') && REDACT_PATHS.includes('*.GIT_TOKEN'), 'the paths, as pino would name them')
})

t.test('a secret field inside a top-level headers object is censored too, and a headers object inside it', async t => {
  const out = capture()
  censoringLogger(out.stream).info({ headers: { token: 'h1', secret: 'h2', headers: { authorization: 'h3' }, accept: 'text/plain' } }, 'headers')
  for (const secret of ['h1', 'h2', 'h3']) t.notMatch(out.text(), secret)
  t.match(out.text(), /text\/plain/)
})

t.test('a child logger\'s bindings are censored as a line\'s object is, at every generation', async t => {
  const out = capture()
  const root = censorChildBindings(censoringLogger(out.stream))
  root.child({ token: 'b1', headers: { authorization: 'b2' }, component: 'scheduler' }).child({ build: { secret: 'b3' }, buildId: 7 }).info('bound')
  const line = JSON.parse(out.text()) as Record<string, unknown>
  t.match(line, { token: '[redacted]', headers: { authorization: '[redacted]' }, component: 'scheduler', build: { secret: '[redacted]' }, buildId: 7 })
  for (const secret of ['b1', 'b2', 'b3']) t.notMatch(out.text(), secret)
})

t.test('a value with toJSON is censored in what toJSON gives, and still shows only that', async t => {
  const out = capture()
  const user = { name: 'octocat', apiKey: 'k1', token: 'k2', toJSON () { return { name: this.name } } }
  const session = { id: 's', toJSON () { return { id: 'session-1', token: 'k3' } } }
  const at = new Date('2026-11-27T00:00:00Z')
  censoringLogger(out.stream).info({ user, session, at, nested: { at } }, 'toJSON')
  const line = JSON.parse(out.text()) as Record<string, unknown>
  t.match(line, { user: { name: 'octocat' }, session: { id: 'session-1', token: '[redacted]' }, at: '2026-11-27T00:00:00.000Z', nested: { at: '2026-11-27T00:00:00.000Z' } })
  for (const secret of ['k1', 'k2', 'k3']) t.notMatch(out.text(), secret)
  t.equal(user.token, 'k2', 'the object itself is left as it was')
})

t.test('a line without secrets is logged from the very object (no copy), deeper levels as they are', async t => {
  const out = capture()
  const fields = { buildId: 1, nested: { deeper: { token: 'not-a-path' } }, list: [{ token: 'in-an-array' }] }
  t.equal(censorSecrets(fields), fields)
  censoringLogger(out.stream).info(fields, 'plain')
  t.match(out.text(), /not-a-path.*in-an-array/, 'only the paths listed are censored; known secret values are replaced in the line itself')
})

t.test('an error is censored in what its serializer made of it, and keeps its message and stack', async t => {
  const out = capture()
  const err = Object.assign(new Error('the registry refused'), { headers: { authorization: 'Basic e1', accept: '*/*' }, token: 'e2', code: 'E_REFUSED' })
  censoringLogger(out.stream).error({ err }, 'failed')
  const line = JSON.parse(out.text()) as { err: { message: string, stack: string, code: string, token: string, headers: Record<string, string> } }
  t.equal(line.err.message, 'the registry refused')
  t.match(line.err.stack, /^Error: the registry refused\n/)
  t.same([line.err.code, line.err.token, line.err.headers], ['E_REFUSED', '[redacted]', { authorization: '[redacted]', accept: '*/*' }])
  t.equal(err.token, 'e2', 'the error itself is left as it was')
})

t.test('a value with a serializer reaches it as it was logged, not as a copy', async t => {
  const out = capture()
  class Request { get method () { return 'POST' } url = '/demo'; headers = { authorization: 'Bearer r1' } }
  censoringLogger(out.stream, { req: censorSerialized((req: Request) => ({ method: req.method, url: req.url, headers: req.headers })) }).info({ req: new Request() }, 'request')
  t.same((JSON.parse(out.text()) as { req: object }).req, { method: 'POST', url: '/demo', headers: { authorization: '[redacted]' } })
  t.equal(censorSerialized((value: string) => value.toUpperCase())('text'), 'TEXT', 'what is not an object is passed on')
})

t.test('no token reaches the service log, whatever the level and outcome of a request', async t => {
  const out = capture()
  const app = await build(t, { LOG_LEVEL: 'trace' }, { logStream: out.stream }, app => {
    app.register(async (child) => {
      child.get('/p', { config: { auth: 'bearer' } }, async (request) => {
        request.log.info({ headers: request.headers }, 'handler saw headers')
        return { ok: true }
      })
    })
  })
  await app.inject({ method: 'GET', url: '/p', headers: { authorization: `Bearer ${TOKENS[0]}` } })
  await app.inject({ method: 'GET', url: '/p', headers: { authorization: 'Bearer wrong-secret-value' } })
  const text = out.text()
  t.match(text, /handler saw headers/)
  t.match(text, /unauthorized: invalid authorization header/)
  for (const secret of [...TOKENS, 'wrong-secret-value']) t.notMatch(text, secret)
})

t.test('a request is logged by its path: the query string can hold anything', async t => {
  const request = { method: 'GET', url: '/builds?access_token=abc&x=1', host: 'hook.test', ip: '127.0.0.1', socket: { remotePort: 4000 } }
  t.same(serializeRequest(request), { method: 'GET', url: '/builds', host: 'hook.test', remoteAddress: '127.0.0.1', remotePort: 4000 })
  t.same(serializeRequest({ method: 'POST', url: '/demo', socket: null }), { method: 'POST', url: '/demo', host: undefined, remoteAddress: undefined, remotePort: undefined })
})

t.test('the log line redactor knows the environment\'s secrets before the config, and every secret after', async t => {
  const redactor = new LogLineRedactor({ BEARER_TOKENS: 'bearer-one-value, bearer-two-value', GITHUB_TOKEN: 'github-token-value' })
  t.equal(redactor.redact('bearer-two-value github-token-value webhook-secret-value'), '[redacted] [redacted] webhook-secret-value')
  redactor.use(new Redactor(['webhook-secret-value']))
  t.equal(redactor.redact('webhook-secret-value'), '[redacted]')
})

t.test('a secret with quotes, backslashes or control characters is redacted as JSON escapes it in a log line', async t => {
  const secret = 'we"b\\hook\tsecret'
  const out = capture()
  const log = pino({ hooks: { streamWrite: new Redactor([secret]).redact.bind(new Redactor([secret])) } }, out.stream)
  log.info({ note: `the secret is ${secret}` }, `and again ${secret}`)
  t.notMatch(out.text(), JSON.stringify(secret).slice(1, -1))
  t.equal(out.text().split('[redacted]').length - 1, 2)
})
