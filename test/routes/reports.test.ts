import { createHmac, timingSafeEqual } from 'node:crypto'
import { once } from 'node:events'
import { mkdirSync, writeFileSync } from 'node:fs'
import http from 'node:http'
import type { AddressInfo } from 'node:net'
import path from 'node:path'
import { Writable } from 'node:stream'
import t, { type Test } from 'tap'
import { buildApp } from '../../app.js'
import type { StatusProvider } from '../../lib/config/schema.js'
import { configToml, eventually, finished, harness, TEST_APP_OPTIONS, testEnv, TOKENS, tempDir, writeConfig, type Harness } from '../helper.js'
import { startFakeKube } from '../fixtures/kube-api.js'
import { startStatusApi, type StatusApi } from '../fixtures/status-apis.js'

// docs/contract.md "Commit status and notifications", through the real app: a push shows pending, then its outcome, on
// its commit in each host's format (checked by a double of each host's API), and notifications arrive signed.

const auth = { authorization: `Bearer ${TOKENS[0]}` }
const commit = (c: string): string => c.repeat(40)
const TOKEN = 'status-token-0123456789'
const NOTIFY_SECRET = 'notify-secret-0123456789'
const WEB = 'registry.test/demo/web'
const FAST_RETRIES = { retry: { retryBaseMs: 20, retryMaxMs: 50 } }

interface Setup extends Harness {
  api: StatusApi
  /** Builds of demo/web wait for this file (created by `release`). */
  gate: string
  release: () => void
  push: (c: string) => Promise<number>
  lines: string[]
}

async function setup (t: Test, provider: StatusProvider, options: { extra?: string, env?: Record<string, string>, reports?: typeof FAST_RETRIES, gate?: boolean, api?: StatusApi } = {}): Promise<Setup> {
  const api = options.api ?? await startStatusApi(t, provider, { token: TOKEN, repository: 'org/demo' })
  const toml = configToml([{ slug: 'demo', extra: `[projects.status]\ntoken_env = "STATUS_TOKEN"\nprovider = "${provider}"\napi_url = "${api.url}"\n${options.extra ?? ''}` }])
    .replace('registry = "registry.test"', 'registry = "registry.test"\npublic_url = "https://hook.test/"')
  const lines: string[] = []
  const logStream = new Writable({ write (chunk, _encoding, callback) { lines.push(...String(chunk).split('\n').filter(Boolean)); callback() } })
  const h = await harness(t, { CONFIG_PATH: writeConfig(t, toml), STATUS_TOKEN: TOKEN, LOG_LEVEL: 'debug', ...options.env }, { logStream, reports: options.reports ?? FAST_RETRIES })
  const gate = path.join(tempDir(t), 'gate')
  if (options.gate !== false) h.docker.control({ images: { [WEB]: { waitForFile: gate } } })
  const push = async (c: string): Promise<number> => {
    const res = await h.app.inject({ method: 'POST', url: '/demo', headers: auth, payload: { commit: commit(c) } })
    t.equal(res.statusCode, 202)
    return res.json().id as number
  }
  return { ...h, api, gate, release: () => writeFileSync(gate, ''), push, lines }
}

const EXPECTED: Record<StatusProvider, { states: string[], failure: string, error: string, cancelled: string, auth: (headers: http.IncomingHttpHeaders) => string | undefined }> = {
  github: { states: ['pending', 'pending', 'success'], failure: 'failure', error: 'error', cancelled: 'error', auth: headers => headers.authorization },
  gitlab: { states: ['pending', 'running', 'success'], failure: 'failed', error: 'failed', cancelled: 'canceled', auth: headers => headers['private-token'] as string | undefined },
  gitea: { states: ['pending', 'pending', 'success'], failure: 'failure', error: 'error', cancelled: 'error', auth: headers => headers.authorization },
  forgejo: { states: ['pending', 'pending', 'success'], failure: 'failure', error: 'error', cancelled: 'error', auth: headers => headers.authorization },
  bitbucket: { states: ['INPROGRESS', 'INPROGRESS', 'SUCCESSFUL'], failure: 'FAILED', error: 'FAILED', cancelled: 'STOPPED', auth: headers => headers.authorization }
}
const AUTH: Record<StatusProvider, string> = { github: `Bearer ${TOKEN}`, gitlab: TOKEN, gitea: `token ${TOKEN}`, forgejo: `token ${TOKEN}`, bitbucket: `Bearer ${TOKEN}` }

for (const provider of Object.keys(EXPECTED) as StatusProvider[]) {
  t.test(`${provider}: a push shows pending on its commit, then running, then success, in the host's own format`, async t => {
    const { api, push, release, app } = await setup(t, provider)
    const id = await push('a')
    const started = await api.waitForCalls(2, 30_000)
    t.equal(app.store.get(id)!.status, 'running', 'the build is still running: its statuses came while it ran')
    release()
    const calls = await api.waitForCalls(3, 30_000)
    const build = await finished(app, id)
    t.equal(build.status, 'succeeded')
    t.same(calls.map(call => call.state), EXPECTED[provider].states)
    t.same(started.map(call => call.state), EXPECTED[provider].states.slice(0, 2))
    for (const call of calls) {
      t.equal(call.commit, commit('a'))
      t.equal(call.context, 'build-hook/demo')
      t.equal(call.targetUrl, `https://hook.test/ui/builds/${id}`)
      t.equal(EXPECTED[provider].auth(call.headers), AUTH[provider])
    }
    t.same(calls.map(call => call.description), [`Queued as build #${id}`, `Building demo/web (build #${id})`, `Pushed demo/web@${build.images[0]!.digest!.slice(0, 19)}…`])
    t.same(api.rejected, [], 'the host refused nothing')
    const record = await eventually(() => {
      const reports = app.store.get(id)!.reports
      return reports[0]?.status === 'delivered' ? reports : undefined
    }, 'the record to show the delivered status')
    t.same(record, [{
      kind: 'status',
      target: `${provider} build-hook/demo`,
      event: 'succeeded',
      commit: commit('a'),
      state: EXPECTED[provider].states[2],
      status: 'delivered',
      attempts: 1,
      responseStatus: 201,
      error: null,
      attemptedAt: record[0]!.attemptedAt,
      nextAttemptAt: null
    }])
    t.same((await app.inject({ url: `/builds/${id}`, headers: auth })).json().reports, record, 'GET /builds/:id shows them')
  })
}

t.test('a deployed build says what it deployed where; a failed one fails its commit, an error elsewhere is an error', async t => {
  const kube = await startFakeKube(t, tempDir(t))
  kube.add('deployments', 'demo', 'web', { replicas: 1, containers: [{ name: 'web', image: `${WEB}:latest` }] })
  const deployments = '\n[projects.deployments]\nnamespace = "demo"\nresources = ["deployment/web"]\nstrategy = "digest"\n'
  const { api, push, app, docker } = await setup(t, 'github', { gate: false, extra: deployments, env: { KUBECONFIG: kube.kubeconfig } })
  const deployed = await finished(app, await push('a'))
  t.match(deployed, { status: 'succeeded', deploy: { status: 'succeeded' } })
  t.equal((await api.waitForCalls(3, 30_000)).at(-1)!.description, `Deployed demo/web@${deployed.images[0]!.digest!.slice(0, 19)}… to demo`)
  docker.control({ images: { [WEB]: { fail: 'step' } } })
  const failed = await finished(app, await push('b'))
  docker.control({ images: { [WEB]: { fail: 'registry-down' } } })
  const error = await finished(app, await push('c'))
  const calls = await api.waitForCalls(9, 30_000)
  const last = (c: string) => calls.filter(call => call.commit === commit(c)).at(-1)!
  t.match(last('b'), { state: 'failure', description: /^registry\.test\/demo\/web: build step 'RUN make test' failed with exit code 2/ })
  t.equal(failed.status, 'failed')
  t.match(last('c'), { state: 'error', description: /^registry\.test\/demo\/web: the registry is unreachable/ })
  t.equal(error.status, 'failed')
  t.ok(last('b').description.length <= 140)
})

t.test('superseded and cancelled builds end their commits\' statuses, so that none stays pending', async t => {
  const { api, push, app, release } = await setup(t, 'gitlab')
  const running = await push('a')
  await api.waitForCalls(2, 30_000)
  const superseded = await push('b')
  const cancelled = await push('c')
  t.equal((await app.inject({ method: 'POST', url: `/builds/${cancelled}/cancel`, headers: auth })).statusCode, 202)
  release()
  await finished(app, running)
  const calls = await api.waitForCalls(7, 30_000)
  const of = (c: string) => calls.filter(call => call.commit === commit(c)).map(call => `${call.state}: ${call.description}`)
  t.same(of('b'), [`pending: Queued as build #${superseded}`, `canceled: Not built: superseded by build #${cancelled} of a newer push`])
  t.same(of('c'), [`pending: Queued as build #${cancelled}`, 'canceled: Cancelled through the API'])
  t.match(of('a').at(-1), /^success: /)
})

t.test('a host that answers 500 twice, then 201, gets every status; the record counts the attempts', async t => {
  const api = await startStatusApi(t, 'gitea', { token: TOKEN, repository: 'org/demo' })
  api.failNext({ statusCode: 500, body: '{"message":"database is locked"}' }, { statusCode: 502 })
  const { push, release, app } = await setup(t, 'gitea', { api })
  const id = await push('a')
  await api.waitForCalls(2, 30_000)
  release()
  const calls = await api.waitForCalls(3, 30_000)
  t.same(calls.map(call => call.state), ['pending', 'pending', 'success'])
  t.same(api.rejected.map(call => call.statusCode), [500, 502])
  await finished(app, id)
  const metrics = await eventually(async () => {
    const text = (await app.inject({ url: '/metrics' })).body
    return text.includes('build_hook_reports_total{project="demo",kind="status",outcome="delivered"} 3') ? text : undefined
  }, 'the metrics to count three delivered statuses')
  t.match(metrics, 'build_hook_reports_total{project="demo",kind="status",outcome="retried"} 2')
  t.match(metrics, 'build_hook_reports_pending{project="demo",kind="status"} 0')
})

t.test('a 429 with Retry-After holds the commit\'s statuses back until the host said, not longer', async t => {
  const api = await startStatusApi(t, 'github', { token: TOKEN, repository: 'org/demo' })
  api.failNext({ statusCode: 429, headers: { 'retry-after': '1' }, body: '{"message":"slow down"}' })
  const { push, app } = await setup(t, 'github', { api, gate: false })
  await finished(app, await push('a'))
  await eventually(() => api.calls.some(call => call.state === 'success') ? true : undefined, 'the final status')
  t.ok(api.calls[0]!.at - api.rejected[0]!.at >= 1000, 'nothing was sent for a second after the 429')
  t.ok(api.calls[0]!.at - api.rejected[0]!.at < 15_000, 'and then it was sent')
})

t.test('reports not delivered when the service stops are sent after the next start, from the store', async t => {
  const api = await startStatusApi(t, 'bitbucket', { token: TOKEN, repository: 'org/demo' })
  api.failNext(...Array.from({ length: 50 }, () => ({ statusCode: 503 })))
  const first = await setup(t, 'bitbucket', { api, gate: false, reports: { retry: { retryBaseMs: 600_000, retryMaxMs: 600_000 } } })
  const id = await first.push('a')
  await finished(first.app, id)
  const pending = await eventually(() => {
    const [report] = first.app.store.get(id)!.reports
    return report?.event === 'succeeded' ? report : undefined
  }, 'the final status to wait')
  t.match(pending, { status: 'pending', attempts: 0 }, 'it waits for the retry of the state it replaced')
  t.match(api.rejected, [{ statusCode: 503 }], 'which the host refused')
  await first.app.close()
  t.same(api.calls, [], 'the host has not shown anything yet')
  api.answerNormally()

  const second = buildApp({ env: first.env, ...TEST_APP_OPTIONS, reports: FAST_RETRIES })
  t.teardown(() => second.close())
  await second.ready()
  const calls = await api.waitForCalls(1, 30_000)
  t.same(calls.map(call => `${call.commit} ${call.state}`), [`${commit('a')} SUCCESSFUL`], 'only the newest state of the commit: the older ones were replaced')
  await eventually(() => second.store.get(id)!.reports[0]?.status === 'delivered' ? true : undefined, 'the record to say delivered')
})

t.test('notifications arrive signed, with their event and a delivery id; slack gets a message; neither carries a secret', async t => {
  const received: Array<{ path: string, headers: http.IncomingHttpHeaders, body: string, verified: boolean }> = []
  const receiver = http.createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (chunk: Buffer) => chunks.push(chunk))
    req.on('end', () => {
      const raw = Buffer.concat(chunks)
      const expected = Buffer.from(`sha256=${createHmac('sha256', NOTIFY_SECRET).update(raw).digest('hex')}`)
      const given = Buffer.from(String(req.headers['x-build-hook-signature-256'] ?? ''))
      const verified = given.length === expected.length && timingSafeEqual(given, expected)
      received.push({ path: req.url!, headers: req.headers, body: raw.toString(), verified })
      res.writeHead(req.url!.startsWith('/signed') && !verified ? 401 : 200).end('ok')
    })
  })
  receiver.listen(0, '127.0.0.1')
  await once(receiver, 'listening')
  t.teardown(async () => { receiver.closeAllConnections(); await new Promise(resolve => receiver.close(resolve)) })
  const url = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}`
  const extra = `\n[[projects.notify]]\nurl = "${url}/signed/T000/B000?token=chat-token-0123456789"\nevents = ["queued", "succeeded"]\nsecret_env = "NOTIFY_SECRET"\n` +
    `\n[[projects.notify]]\nurl = "${url}/slack/T000/B000/chat-token-0123456789"\nformat = "slack"\n`
  const { push, release, app, lines, env } = await setup(t, 'github', { extra, env: { NOTIFY_SECRET } })
  const id = await push('a')
  release()
  const build = await finished(app, id)
  await eventually(() => received.length === 3 ? true : undefined, 'three notifications')
  const signed = received.filter(request => request.path.startsWith('/signed'))
  t.same(signed.map(request => request.headers['x-build-hook-event']), ['queued', 'succeeded'])
  t.ok(signed.every(request => request.verified), 'the receiver verified each signature')
  t.not(signed[0]!.headers['x-build-hook-delivery'], signed[1]!.headers['x-build-hook-delivery'])
  t.match(signed[0]!.headers['x-build-hook-delivery'], /^[0-9a-f-]{36}$/)
  t.match(JSON.parse(signed[1]!.body), { id, project: 'demo', status: 'succeeded', images: [{ image: WEB, digest: build.images[0]!.digest }] })
  const [slack] = received.filter(request => request.path.startsWith('/slack'))
  t.same(JSON.parse(slack!.body), { text: `demo: build <https://hook.test/ui/builds/${id}|#${id}> succeeded: Pushed demo/web@${build.images[0]!.digest!.slice(0, 19)}… (\`aaaaaaaaaaaa\` on main)` })
  t.equal(slack!.headers['x-build-hook-signature-256'], undefined, 'unsigned without secret_env')
  const record = await eventually(() => {
    const reports = app.store.get(id)!.reports
    return reports.length === 3 && reports.every(report => report.status === 'delivered') ? reports : undefined
  }, 'every report delivered')
  t.same(record.map(report => report.target), ['github build-hook/demo', `notify 127.0.0.1:${(receiver.address() as AddressInfo).port} (json)`, `notify 127.0.0.1:${(receiver.address() as AddressInfo).port} (slack)`].sort((a, b) => record.findIndex(r => r.target === a) - record.findIndex(r => r.target === b)))
  const answers = [JSON.stringify(record), (await app.inject({ url: `/builds/${id}`, headers: auth })).body, (await app.inject({ url: '/builds', headers: auth })).body, ...lines]
  mkdirSync(env.DATA_DIR!, { recursive: true })
  for (const [i, text] of answers.entries()) {
    for (const secret of [TOKEN, NOTIFY_SECRET, 'chat-token-0123456789']) t.notOk(text.includes(secret), `answer or log line ${i} does not contain ${secret.slice(0, 6)}…`)
  }
})

t.test('a status token or notify secret variable that is not set stops start-up, naming it', async t => {
  const toml = configToml([{ slug: 'demo', extra: '[projects.status]\ntoken_env = "MISSING_STATUS_TOKEN"\nprovider = "gitea"\n\n[[projects.notify]]\nurl = "https://chat.test/x"\nsecret_env = "MISSING_NOTIFY_SECRET"\n' }])
  const app = buildApp({ env: testEnv(t, { CONFIG_PATH: writeConfig(t, toml) }), ...TEST_APP_OPTIONS })
  t.teardown(() => app.close())
  await t.rejects(async () => app.ready(), {
    code: 'BH_CONFIG_ENV_MISSING',
    message: /are not set \(2 variables\):\n {2}- MISSING_STATUS_TOKEN is not set \(named by projects\[0\]\.status\.token_env\)\n {2}- MISSING_NOTIFY_SECRET is not set \(named by projects\[0\]\.notify\[0\]\.secret_env\)$/
  })
})

t.test('reports waiting across a config change go nowhere else: a changed URL or a removed target fails them, saying why', async t => {
  const old = await startStatusApi(t, 'gitea', { token: TOKEN, repository: 'org/demo' })
  old.failNext(...Array.from({ length: 50 }, () => ({ statusCode: 503 })))
  const moved = await startStatusApi(t, 'gitea', { token: TOKEN, repository: 'org/demo' })
  const status = (api: StatusApi) => `[projects.status]\ntoken_env = "STATUS_TOKEN"\nprovider = "gitea"\napi_url = "${api.url}"\n`
  const hook = `${await closedUrl()}/hook`
  const notify = `\n[[projects.notify]]\nurl = "${hook}"\n`
  const before = configToml([
    { slug: 'demo', url: 'https://git.test/org/demo', extra: status(old) + notify },
    { slug: 'quiet', url: 'https://git.test/org/demo', extra: status(old) },
    { slug: 'gone', url: 'https://git.test/org/demo', extra: notify }
  ])
  const after = configToml([{ slug: 'demo', url: 'https://git.test/org/demo', extra: status(moved) }, { slug: 'quiet', url: 'https://git.test/org/demo' }])
  const env = testEnv(t, { CONFIG_PATH: writeConfig(t, before), STATUS_TOKEN: TOKEN })
  const first = await harness(t, env, { reports: { retry: { retryBaseMs: 600_000, retryMaxMs: 600_000 } } })
  const ids = []
  for (const slug of ['demo', 'quiet', 'gone']) {
    const res = await first.app.inject({ method: 'POST', url: `/${slug}`, headers: auth, payload: { commit: commit('a') } })
    ids.push(res.json().id as number)
    await finished(first.app, ids.at(-1)!)
  }
  await first.app.close()
  const second = buildApp({ env: { ...first.env, CONFIG_PATH: writeConfig(t, after, 'after.toml') }, ...TEST_APP_OPTIONS })
  t.teardown(() => second.close())
  await second.ready()
  const outcome = async (id: number) => eventually(() => {
    const reports = second.store.get(id)!.reports
    return reports.every(report => report.status === 'failed') ? reports.map(report => `${report.target}: ${report.error!}`) : undefined
  }, `the reports of build ${id} to fail`)
  const notifyTarget = `notify ${new URL(hook).host} (json)`
  t.same(await outcome(ids[0]!), ['gitea build-hook/demo: gitea build-hook/demo was configured with another URL since this was made: not sent', `${notifyTarget}: ${notifyTarget} is no longer in the configuration`])
  t.same(await outcome(ids[1]!), ['gitea build-hook/quiet: gitea build-hook/quiet is no longer in the configuration'])
  t.same(await outcome(ids[2]!), [`${notifyTarget}: ${notifyTarget} is no longer in the configuration`], 'a project no longer configured')
  t.same(moved.calls, [], 'the new API got nothing made for the old one')
})

/** An http URL on 127.0.0.1 where nothing listens (connections are refused). */
async function closedUrl (): Promise<string> {
  const server = http.createServer()
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  const { port } = server.address() as AddressInfo
  await new Promise(resolve => server.close(resolve))
  return `http://127.0.0.1:${port}`
}
