import t, { type Test } from 'tap'
import type { BuildRecord } from '../../../lib/schemas/build.js'
import { BuildStore, type ChangeEvent, type NewBuild, type ReportPlanner } from '../../../lib/store/build-store.js'
import type { NewReport } from '../../../lib/store/report-store.js'
import { sqlite, tempDir } from '../../helper.js'

const commit = (c: string): string => c.repeat(40)
const NEW = (project: string, c = 'a'): NewBuild => ({
  project,
  trigger: { source: 'api', event: 'trigger', delivery: null, ref: 'refs/heads/main', commit: commit(c), sender: null },
  images: [{ image: `registry.test/${project}/web`, tags: ['latest'] }],
  deploy: { status: 'skipped', namespace: null, resources: [] }
})

/** A planner that reports every change of `demo` as a status on its commit, and records what it was asked. */
function planner (replaces = true): ReportPlanner & { asked: string[] } {
  const asked: string[] = []
  return {
    asked,
    reports: project => project === 'demo',
    plan: (build: BuildRecord): NewReport[] => {
      asked.push(`${build.id} ${build.status}`)
      const sha = build.commit ?? build.trigger.commit
      return [{
        target: 'status',
        kind: 'status',
        label: 'github build-hook/demo',
        stream: `status:demo:${sha}`,
        event: build.status,
        commit: sha,
        state: build.status,
        request: { method: 'POST', url: 'http://127.0.0.1:1/x', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ id: build.id, status: build.status }) },
        replaces
      }]
    }
  }
}

function openStore (t: Test, replaces = true): { store: BuildStore, plan: ReturnType<typeof planner>, changes: ChangeEvent[] } {
  const store = new BuildStore(tempDir(t))
  t.teardown(() => store.close())
  const plan = planner(replaces)
  store.reportPlanner = plan
  const changes: ChangeEvent[] = []
  store.on('change', event => changes.push(event))
  return { store, plan, changes }
}

const events = (t: Test, store: BuildStore): string[] =>
  (sqlite(t, store).prepare('SELECT build_id, event, status FROM reports ORDER BY id').all() as Array<{ build_id: number, event: string, status: string }>)
    .map(row => `${row.build_id} ${row.event} ${row.status}`)

t.test('each change of a reporting project\'s build adds its reports in the change\'s transaction, and is announced', async t => {
  const { store, changes } = openStore(t, false)
  const { build } = store.record(NEW('demo'))
  store.start(build.id)
  store.finish(build.id, 'succeeded', null)
  t.same(events(t, store), ['1 queued pending', '1 running pending', '1 succeeded pending'])
  t.same(changes.map(change => change.status), ['queued', 'running', 'succeeded'])
  const [first] = store.reports.due(new Date(), [], 10)
  t.match(first, { buildId: 1, project: 'demo', target: 'status', kind: 'status', stream: `status:demo:${commit('a')}`, event: 'queued', attempts: 0, request: { method: 'POST', body: '{"id":1,"status":"queued"}' } })
  t.match(first!.delivery, /^[0-9a-f-]{36}$/)
  t.equal(store.reports.due(new Date(), [], 10).length, 1, 'a stream sends one report at a time, the oldest first')
})

t.test('a project that reports nothing never has its builds read for reports', async t => {
  const { store, plan } = openStore(t)
  const { build } = store.record(NEW('quiet'))
  store.start(build.id)
  store.finish(build.id, 'failed', 'boom')
  t.same(plan.asked, [])
  t.same(events(t, store), [])
  t.same(store.get(build.id)!.reports, [])
})

t.test('a duplicate trigger reports nothing; superseded, cancelled, requeued and recovered builds report their new status', async t => {
  const { store, plan } = openStore(t)
  const first = store.record(NEW('demo', 'a')).build
  t.equal(store.record(NEW('demo', 'a')).duplicate, true)
  store.record(NEW('demo', 'b'))
  t.same(plan.asked, ['1 queued', '2 queued', '1 superseded'])
  store.cancelQueued(2, 'cancelled through the API')
  const third = store.record(NEW('demo', 'c')).build
  store.start(third.id)
  store.requeue(third.id, { reason: 'builder-unreachable', error: 'BuildKit is unreachable' })
  store.start(third.id)
  store.recover(3)
  t.same(plan.asked.slice(3), ['2 cancelled', '3 queued', '3 running', '3 queued', '3 running', '3 queued'])
  t.equal(first.id, 1)
})

t.test('a newer state replaces the unsent older reports of its stream; the record shows each target\'s last report', async t => {
  const { store } = openStore(t)
  const { build } = store.record(NEW('demo'))
  store.start(build.id)
  t.same(events(t, store), ['1 queued skipped', '1 running pending'])
  t.match(store.get(build.id)!.reports, [{ kind: 'status', target: 'github build-hook/demo', event: 'running', commit: commit('a'), state: 'running', status: 'pending', attempts: 0, responseStatus: null, error: null, attemptedAt: null }])
  t.type(store.get(build.id)!.reports[0]!.nextAttemptAt, 'string')
})

t.test('an attempt is recorded: retried at a time, delivered, or failed; a retry of a report replaced meanwhile is dropped', async t => {
  const { store } = openStore(t, false)
  const { build } = store.record(NEW('demo'))
  store.start(build.id)
  const now = new Date()
  const [queued] = store.reports.due(now, [], 10)
  const later = new Date(now.getTime() + 60_000)
  store.reports.retry(queued!.id, { responseStatus: 503, error: 'HTTP 503' }, later, now)
  t.same(store.reports.due(now, [], 10), [], 'not due before its time, and the stream waits for it')
  t.same(store.reports.nextDueAt([]), later)
  t.equal(store.reports.nextDueAt([queued!.stream]), null, 'a busy stream is not looked at')
  const [again] = store.reports.due(later, [], 10)
  t.match(again, { id: queued!.id, attempts: 1 })
  store.reports.delivered(queued!.id, { responseStatus: 201, error: null }, later)
  const [running] = store.reports.due(later, [], 10)
  t.match(running, { event: 'running', attempts: 0 })
  store.reports.failed(running!.id, { responseStatus: 401, error: 'HTTP 401: Bad credentials' }, later)
  t.match(store.get(build.id)!.reports, [{ event: 'running', status: 'failed', attempts: 1, responseStatus: 401, error: 'HTTP 401: Bad credentials', attemptedAt: later.toISOString(), nextAttemptAt: null }])
  t.same(store.reports.due(later, [], 10), [])
  t.equal(store.reports.nextDueAt([]), null)

  const replacing = openStore(t)
  const next = replacing.store.record(NEW('demo')).build
  const [sending] = replacing.store.reports.due(new Date(), [], 10)
  replacing.store.start(next.id) // replaces the queued report while it is being sent
  replacing.store.reports.retry(sending!.id, { responseStatus: 500, error: 'HTTP 500' }, later)
  t.same(events(t, replacing.store), ['1 queued skipped', '1 running pending'])
})

t.test('reports waiting are counted by project and kind; a build with reports waiting is kept from retention until they are sent', async t => {
  const { store } = openStore(t, false)
  const { build } = store.record(NEW('demo'))
  store.finish(build.id, 'cancelled', 'no')
  t.same(store.reports.pending(), [{ project: 'demo', kind: 'status', n: 2 }])
  store.record(NEW('demo', 'b'))
  t.same(store.prune('demo', 1), [], 'its final status still waits to be sent')
  for (const report of store.reports.due(new Date(), [], 10)) store.reports.delivered(report.id, { responseStatus: 201, error: null })
  for (const report of store.reports.due(new Date(), [], 10)) store.reports.failed(report.id, { responseStatus: 401, error: 'HTTP 401' })
  t.same(store.prune('demo', 1), [build.id])
  t.same(events(t, store), ['2 queued delivered'], 'its reports went with it')
})

t.test('a superseded build on a commit another build runs, or finished after it was queued, is planned with that build', async t => {
  const { store, plan } = openStore(t)
  const owners: Array<number | null> = []
  const planWith = plan.plan
  store.reportPlanner = { ...plan, plan: (build, context) => { owners.push(context.commitOwner?.id ?? null); return planWith(build, context) } }
  const running = store.record(NEW('demo', 'a')).build
  store.start(running.id)
  store.record(NEW('demo', 'b'))
  const again = store.record(NEW('demo', 'a')).build // a push back to the running commit, with b queued
  store.record(NEW('demo', 'c')) // supersedes it
  t.same(owners.slice(-2), [null, running.id], 'b superseded: nobody else builds b; a superseded: build 1 runs a')
  t.equal(store.get(again.id)!.status, 'superseded')
  store.finish(running.id, 'succeeded', null, new Date('2026-11-26T10:00:00.000Z'))
  const later = store.record(NEW('demo', 'a'), new Date('2026-11-26T10:00:01.000Z')).build
  store.cancelQueued(later.id, 'cancelled through the API')
  t.equal(owners.at(-1), null, 'a build that finished before this one was queued does not speak for it')
})

t.test('an attempt started on another head than the attempt before tells the planner which commit it leaves', async t => {
  const { store, plan } = openStore(t)
  const previous: Array<string | null> = []
  const planWith = plan.plan
  store.reportPlanner = { ...plan, plan: (build, context) => { previous.push(context.previousCommit); return planWith(build, context) } }
  const { build } = store.record(NEW('demo', 'a'))
  store.start(build.id, new Date(), { commit: commit('b'), reason: 'moved', tags: [['latest']] })
  store.requeue(build.id, { reason: 'builder-unreachable', error: 'gone' })
  store.start(build.id, new Date(), { commit: commit('c'), reason: 'moved', tags: [['latest']] })
  t.same(previous, [null, null, null, commit('b')], 'queued, running on b, queued again, running on c after b')
})
