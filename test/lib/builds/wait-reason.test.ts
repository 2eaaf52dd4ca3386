import t from 'tap'
import { describeWait, formatDuration, waitReason, type SchedulerView } from '../../../lib/builds/wait-reason.js'

const build = (id: number, project: string, source: 'api' | 'rollback' = 'api') => ({ id, project, trigger: { source, event: 'trigger', delivery: null, ref: 'refs/heads/main', commit: 'a'.repeat(40), sender: null } })
const view = (overrides: Partial<SchedulerView> = {}): SchedulerView => ({
  running: [], maxConcurrent: 2, builder: { ready: true, reason: null, bootstrapped: true }, ...overrides
})

t.test('a build holding its slot waits for its head check, before anything else', async t => {
  t.same(waitReason(build(42, 'my-app'), view({ running: [{ id: 42, project: 'my-app' }], builder: { ready: false, reason: 'down', bootstrapped: true } })), { kind: 'head-check' })
})

t.test('a build of a project with a build in its slot waits for that build, whatever else holds it back', async t => {
  const running = [{ id: 40, project: 'other' }, { id: 41, project: 'my-app' }]
  t.same(waitReason(build(42, 'my-app'), view({ running, builder: { ready: false, reason: 'down', bootstrapped: true } })), { kind: 'project', build: 41, project: 'my-app' })
})

t.test('a build waits for the builder while it is not ready; a rollback does not', async t => {
  const down = view({ running: [{ id: 39, project: 'a' }, { id: 40, project: 'b' }], builder: { ready: false, reason: 'BuildKit is unreachable at tcp://b:1234', bootstrapped: false } })
  t.same(waitReason(build(42, 'my-app'), down), { kind: 'builder', reason: 'BuildKit is unreachable at tcp://b:1234', bootstrapped: false })
  t.same(waitReason(build(42, 'my-app', 'rollback'), down), { kind: 'slots', max: 2, builds: [39, 40] })
})

t.test('with every slot taken a build waits for a slot; otherwise nothing holds it back', async t => {
  t.same(waitReason(build(42, 'my-app'), view({ running: [{ id: 39, project: 'a' }, { id: 40, project: 'b' }] })), { kind: 'slots', max: 2, builds: [39, 40] })
  t.same(waitReason(build(42, 'my-app'), view({ running: [{ id: 39, project: 'a' }] })), { kind: 'next' })
})

t.test('each reason reads as what the build waits for', async t => {
  t.equal(describeWait({ kind: 'head-check' }), 'the branch head from the Git host (checked just before a webhook build starts)')
  t.equal(describeWait({ kind: 'project', build: 41, project: 'my-app' }), 'build 41 of my-app to finish (one build per project at a time)')
  t.equal(describeWait({ kind: 'slots', max: 2, builds: [39, 40] }), 'a free builder slot (2 of 2 in use: builds 39, 40)')
  t.equal(describeWait({ kind: 'slots', max: 1, builds: [39] }), 'a free builder slot (1 of 1 in use: build 39)')
  t.equal(describeWait({ kind: 'builder', reason: 'BuildKit is unreachable at tcp://b:1234', bootstrapped: true }), 'the builder to come back (BuildKit is unreachable at tcp://b:1234)')
  t.equal(describeWait({ kind: 'builder', reason: null, bootstrapped: false }), 'the builder to be ready')
  t.equal(describeWait({ kind: 'next' }), 'its turn to start (nothing else holds it back)')
})

t.test('durations read in seconds, minutes and hours', async t => {
  t.same([0, 999, 45_000, 300_000, 3_723_000, -5].map(formatDuration), ['0s', '0s', '45s', '5m 0s', '1h 2m 3s', '0s'])
})
