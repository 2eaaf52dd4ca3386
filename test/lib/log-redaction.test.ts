import { Writable } from 'node:stream'
import t from 'tap'
import { pino } from 'pino'
import { REDACT_CENSOR, REDACT_PATHS, serializeRequest } from '../../lib/log-redaction.js'
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

t.test('secret headers and fields are censored wherever they are logged', async t => {
  const out = capture()
  const log = pino({ redact: { paths: [...REDACT_PATHS], censor: REDACT_CENSOR } }, out.stream)
  log.info({
    req: { headers: { authorization: 'Bearer s1', 'x-hub-signature-256': 'sha256=s2', 'x-gitlab-token': 's3', 'user-agent': 'GitHub-Hookshot' } },
    headers: { 'x-gitea-signature': 's4', 'x-forgejo-signature': 's5', 'x-gogs-signature': 's6', 'x-hub-signature': 's7' },
    env: { BEARER_TOKENS: 's8', GIT_TOKEN: 's9' },
    token: 's10',
    build: { secret: 's11', GIT_AUTH_TOKEN: 's12' }
  }, 'hello')
  const line = out.text()
  for (let i = 1; i <= 12; i++) t.notMatch(line, new RegExp(`\\bs${i}\\b`), `s${i} is censored`)
  t.match(line, /GitHub-Hookshot/, 'harmless headers stay')
  t.match(line, /\[redacted\]/)
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
