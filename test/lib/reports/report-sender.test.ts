import { once } from 'node:events'
import http, { type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import t, { type Test } from 'tap'
import type { BuildRecord } from '../../../lib/schemas/build.js'
import { github } from '../../../lib/commit-status/github.js'
import { signBody } from '../../../lib/notify/signature.js'
import { ReportSender, type SendTarget, type SentEvent } from '../../../lib/reports/report-sender.js'
import { Redactor } from '../../../lib/secrets/redactor.js'
import { BuildStore } from '../../../lib/store/build-store.js'
import type { NewReport } from '../../../lib/store/report-store.js'
import { eventually, sqlite, tempDir, within } from '../../helper.js'

interface Received { path: string, headers: http.IncomingHttpHeaders, body: string, at: number }

type Answer = (req: IncomingMessage, res: ServerResponse) => void

/** A receiver on 127.0.0.1 answering each request with the next of `answers` (then 201), or always with `answers` when it is one function. */
async function receiver (t: Test, answers: Answer[] | Answer = []): Promise<{ url: string, received: Received[] }> {
  const received: Received[] = []
  const server = http.createServer((req, res) => {
    let body = ''
    req.on('data', chunk => { body += String(chunk) })
    req.on('end', () => {
      received.push({ path: req.url!, headers: req.headers, body, at: Date.now() })
      const answer = typeof answers === 'function' ? answers : answers.shift()
      if (answer === undefined) res.writeHead(201, { 'content-type': 'application/json' }).end('{}')
      else answer(req, res)
    })
  })
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  t.teardown(async () => {
    server.closeAllConnections()
    await new Promise(resolve => server.close(resolve))
  })
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, received }
}

const status = (code: number, body = '', headers: Record<string, string> = {}) => (_req: IncomingMessage, res: ServerResponse): void => { res.writeHead(code, headers).end(body) }

interface Setup {
  store: BuildStore
  sender: ReportSender
  sent: SentEvent[]
  logs: Array<{ level: string, obj: object, msg?: string }>
  /** Records a build of `demo` whose queued change sends one report per target given. */
  report: (...reports: Array<Partial<NewReport>>) => BuildRecord
}

function setup (t: Test, url: string, options: { target?: (project: string, target: string) => SendTarget | undefined, giveUpAfterMs?: number, timeoutMs?: number, concurrency?: number } = {}): Setup {
  const store = new BuildStore(tempDir(t))
  let next: Array<Partial<NewReport>> = []
  store.reportPlanner = {
    reports: () => true,
    plan: build => build.status !== 'queued'
      ? []
      : next.map((patch, i) => ({
        target: 'notify:0',
        kind: 'notify',
        label: 'notify 127.0.0.1 (json)',
        stream: `s${build.id}`,
        event: build.status,
        commit: null,
        state: null,
        request: { method: 'POST', url: `${url}/hook/${build.id}/${i}`, headers: { 'Content-Type': 'application/json' }, body: `{"build":${build.id}}` },
        replaces: false,
        ...patch
      }))
  }
  const logs: Setup['logs'] = []
  const log = {
    error: (obj: object, msg?: string) => logs.push({ level: 'error', obj, msg }),
    warn: (obj: object, msg?: string) => logs.push({ level: 'warn', obj, msg }),
    info: (obj: object, msg?: string) => logs.push({ level: 'info', obj, msg }),
    debug: () => {},
    child: () => log
  }
  const sender = new ReportSender({
    store: store.reports,
    target: options.target ?? (() => ({ kind: 'notify', secret: null, sendsTo: () => true })),
    redactor: new Redactor(['status-token-123']),
    log,
    policy: { retryBaseMs: 20, retryMaxMs: 40, ...(options.giveUpAfterMs === undefined ? {} : { giveUpAfterMs: options.giveUpAfterMs }) },
    ...(options.timeoutMs === undefined ? {} : { timeoutMs: options.timeoutMs }),
    ...(options.concurrency === undefined ? {} : { concurrency: options.concurrency })
  })
  const sent: SentEvent[] = []
  sender.on('sent', event => sent.push(event))
  t.teardown(async () => {
    await sender.stop(0)
    store.close()
  })
  let commit = 0
  return {
    store,
    sender,
    sent,
    logs,
    report: (...reports) => {
      next = reports
      const { build } = store.record({
        project: 'demo',
        trigger: { source: 'api', event: 'trigger', delivery: null, ref: 'refs/heads/main', commit: String(++commit % 10).repeat(40), sender: null },
        images: [],
        deploy: { status: 'skipped', namespace: null, resources: [] }
      })
      sender.poke()
      return build
    }
  }
}

const reportOf = (store: BuildStore, id: number): BuildRecord['reports'][number] => store.get(id)!.reports[0]!

t.test('a target answering 500 twice, then 201, has the report delivered on the third attempt', async t => {
  const api = await receiver(t, [status(500, '{"message":"Server Error"}'), status(503)])
  const { store, report, sent } = setup(t, api.url)
  const build = report({})
  const delivered = await eventually(() => reportOf(store, build.id).status === 'delivered' ? reportOf(store, build.id) : undefined, 'the report to be delivered')
  t.match(delivered, { status: 'delivered', attempts: 3, responseStatus: 201, error: null, nextAttemptAt: null })
  t.equal(api.received.length, 3)
  t.same(new Set(api.received.map(request => request.body)), new Set(['{"build":1}']), 'the same body every time')
  t.same(sent.map(event => event.outcome), ['retried', 'retried', 'delivered'])
})

t.test('a 429 is retried when its Retry-After says, not before', async t => {
  const api = await receiver(t, [status(429, '', { 'retry-after': '1' })])
  const { store, report } = setup(t, api.url)
  const build = report({})
  await eventually(() => reportOf(store, build.id).status === 'delivered' ? true : undefined, 'the report to be delivered')
  t.equal(api.received.length, 2)
  t.ok(api.received[1]!.at - api.received[0]!.at >= 900, 'waited about a second, not the 20 ms backoff')
})

t.test('a refused report (401) is failed at once, with the answer\'s message, redacted', async t => {
  const api = await receiver(t, [status(401, '{"message":"Bad credentials: status-token-123"}')])
  const { store, report, logs, sent } = setup(t, api.url)
  const build = report({})
  const failed = await eventually(() => reportOf(store, build.id).status === 'failed' ? reportOf(store, build.id) : undefined, 'the report to fail')
  t.match(failed, { attempts: 1, responseStatus: 401, error: 'HTTP 401: Bad credentials: [redacted]' })
  t.equal(api.received.length, 1)
  t.match(logs.find(line => line.level === 'warn'), { obj: { buildId: build.id, target: 'notify 127.0.0.1 (json)', attempts: 1, responseStatus: 401, error: 'HTTP 401: Bad credentials: [redacted]' } })
  t.same(sent.map(event => event.outcome), ['failed'])
})

t.test('a report still undelivered when its time is up is given up on, saying after how many attempts', async t => {
  const api = await receiver(t, [status(500)])
  const { store, report } = setup(t, api.url, { giveUpAfterMs: 0 })
  const build = report({})
  const failed = await eventually(() => reportOf(store, build.id).status === 'failed' ? reportOf(store, build.id) : undefined, 'the report to be given up')
  t.match(failed, { attempts: 1, responseStatus: 500, error: 'gave up after 1 attempt: HTTP 500' })
})

t.test('retries stop when the time is up, however many there were', async t => {
  const api = await receiver(t, Array.from({ length: 100 }, () => status(500)))
  const { store, report } = setup(t, api.url, { giveUpAfterMs: 2_000 })
  const build = report({})
  const failed = await eventually(() => reportOf(store, build.id).status === 'failed' ? reportOf(store, build.id) : undefined, 'the report to be given up')
  t.match(failed.error, new RegExp(`^gave up after ${failed.attempts} attempts: HTTP 500$`))
  t.ok(failed.attempts > 1)
})

t.test('a connection error or a target that does not answer in time is retried', async t => {
  const api = await receiver(t, [req => req.socket.destroy(), () => { /* never answers */ }])
  const { store, report } = setup(t, api.url, { timeoutMs: 1_500 })
  const build = report({})
  await eventually(() => reportOf(store, build.id).status === 'delivered' ? true : undefined, 'the report to be delivered')
  t.equal(api.received.length, 3)
  t.match(reportOf(store, build.id), { attempts: 3, error: null })
})

t.test('a stream sends one report at a time, in order; other streams go meanwhile', async t => {
  let release: () => void = () => {}
  // The hanging answer goes to the first report of stream one, whichever request arrives first.
  const api = await receiver(t, (req, res) => { if (req.url === '/hook/1/0') release = () => res.writeHead(201).end(); else res.writeHead(201).end() })
  const { report } = setup(t, api.url)
  report({ stream: 'one' }, { stream: 'one' }, { stream: 'two' })
  await eventually(() => api.received.length === 2 ? true : undefined, 'the first report of each stream')
  t.same(new Set(api.received.map(request => request.path)), new Set(['/hook/1/0', '/hook/1/2']))
  release()
  await eventually(() => api.received.length === 3 ? true : undefined, 'the second report of stream one')
  t.equal(api.received[2]!.path, '/hook/1/1')
})

t.test('with every slot taken, a due report waits for a slot without spinning', async t => {
  let release: () => void = () => {}
  const api = await receiver(t, (req, res) => { if (req.url === '/hook/1/0') release = () => res.writeHead(201).end(); else res.writeHead(201).end() })
  const { store, report } = setup(t, api.url, { concurrency: 1 })
  let looked = 0
  const nextDueAt = store.reports.nextDueAt.bind(store.reports)
  store.reports.nextDueAt = (...args) => { looked++; return nextDueAt(...args) }
  report({ stream: 'one' }, { stream: 'two' })
  await eventually(() => api.received.length === 1 ? true : undefined, 'the first report')
  const whileBusy = looked
  release()
  await eventually(() => api.received.length === 2 ? true : undefined, 'the second report, once the slot is free')
  t.equal(whileBusy, 0, 'no timer looked for due reports while the only slot was taken')
})

t.test('a commit status carries its host\'s token header; a notification its delivery id, event, and signature when it has a secret', async t => {
  const api = await receiver(t)
  const targets: Record<string, SendTarget> = {
    status: { kind: 'status', host: github, token: 'status-token-123', sendsTo: () => true },
    'notify:0': { kind: 'notify', secret: 'notify-secret', sendsTo: () => true },
    'notify:1': { kind: 'notify', secret: null, sendsTo: () => true }
  }
  const { report, store } = setup(t, api.url, { target: (_project, target) => targets[target] })
  const build = report({ target: 'status', kind: 'status', stream: 'a' }, { target: 'notify:0', stream: 'b' }, { target: 'notify:1', stream: 'c' })
  await eventually(() => api.received.length === 3 ? true : undefined, 'three requests')
  const byPath = (i: number): Received => api.received.find(request => request.path === `/hook/${build.id}/${i}`)!
  t.equal(byPath(0).headers.authorization, 'Bearer status-token-123')
  t.equal(byPath(0).headers['x-build-hook-delivery'], undefined)
  const delivery = (sqlite(t, store).prepare('SELECT delivery FROM reports WHERE target = ?').get('notify:0') as { delivery: string }).delivery
  t.equal(byPath(1).headers['x-build-hook-delivery'], delivery)
  t.equal(byPath(1).headers['x-build-hook-signature-256'], signBody(byPath(1).body, 'notify-secret'))
  t.equal(byPath(1).headers.authorization, undefined)
  t.equal(byPath(2).headers['x-build-hook-signature-256'], undefined, 'unsigned without a secret')
  t.equal(byPath(2).headers['content-type'], 'application/json')
})

t.test('a report whose target left the configuration is failed, saying so', async t => {
  const api = await receiver(t)
  const { store, report } = setup(t, api.url, { target: () => undefined })
  const build = report({})
  const failed = await eventually(() => reportOf(store, build.id).status === 'failed' ? reportOf(store, build.id) : undefined, 'the report to fail')
  t.match(failed, { attempts: 1, responseStatus: null, error: 'notify 127.0.0.1 (json) is no longer in the configuration' })
  t.equal(api.received.length, 0)
})

t.test('a report made for a URL the config no longer has is not sent: its token or secret stays with the new one', async t => {
  const api = await receiver(t)
  const { store, report } = setup(t, api.url, { target: () => ({ kind: 'notify', secret: 'notify-secret', sendsTo: url => url === 'https://new.test/hook' }) })
  const build = report({})
  const failed = await eventually(() => reportOf(store, build.id).status === 'failed' ? reportOf(store, build.id) : undefined, 'the report to fail')
  t.match(failed, { attempts: 1, responseStatus: null, error: 'notify 127.0.0.1 (json) was configured with another URL since this was made: not sent' })
  t.equal(api.received.length, 0)
})

t.test('an unexpected error while sending is logged, and sending goes on', async t => {
  const api = await receiver(t)
  let calls = 0
  const { report, logs } = setup(t, api.url, { target: () => { if (calls++ === 0) throw new Error('unexpected'); return { kind: 'notify', secret: null, sendsTo: () => true } } })
  report({ stream: 'x' }, { stream: 'y' })
  await eventually(() => logs.some(line => line.level === 'error') ? true : undefined, 'the error to be logged')
  t.match(logs.find(line => line.level === 'error'), { obj: { err: { message: 'unexpected' } }, msg: 'Sending a commit status or notification failed.' })
  await eventually(() => api.received.length === 2 ? true : undefined, 'both reports to be sent, the first one later')
})

t.test('a send whose failure cannot even be recorded is logged, never an unhandled rejection', async t => {
  const api = await receiver(t)
  let calls = 0
  const { store, report, logs } = setup(t, api.url, { target: () => { if (calls++ === 0) throw new Error('unexpected'); return { kind: 'notify', secret: null, sendsTo: () => true } } })
  store.reports.retry = () => { throw new Error('SQLITE_FULL: database or disk is full') }
  report({})
  await eventually(() => logs.some(line => line.msg === 'Recording a failed send failed.') ? true : undefined, 'the second error to be logged')
  t.match(logs.find(line => line.msg === 'Recording a failed send failed.'), { obj: { err: { message: 'SQLITE_FULL: database or disk is full' } } })
  await eventually(() => api.received.length === 1 ? true : undefined, 'the report to be sent after all')
})

t.test('stopping interrupts a report being sent after the grace, leaving it for the next start', async t => {
  const api = await receiver(t, [() => { /* hangs */ }])
  const { store, sender, report } = setup(t, api.url)
  const build = report({})
  await eventually(() => api.received.length === 1 ? true : undefined, 'the request')
  await within(sender.stop(50), 'the sender to stop')
  t.match(reportOf(store, build.id), { status: 'pending', attempts: 0 })
  let looked = 0
  const due = store.reports.due.bind(store.reports)
  store.reports.due = (...args) => { looked++; return due(...args) }
  sender.poke()
  t.equal(looked, 0, 'a stopped sender does not even look')
})

t.test('a report due later wakes the sender up by itself', async t => {
  const api = await receiver(t, [status(503, '', { 'retry-after': '1' })])
  const { store, report } = setup(t, api.url)
  const build = report({})
  await eventually(() => reportOf(store, build.id).status === 'delivered' ? true : undefined, 'the retry without a poke')
  t.equal(api.received.length, 2)
})
