import t from 'tap'
import type { BuildRecord } from '../../../lib/schemas/build.js'
import { parseConfig } from '../../../lib/config/index.js'
import { ConfiguredReports } from '../../../lib/reports/report-planner.js'
import { buildRecord, imageResult } from '../../fixtures/build-record.js'
import { configToml } from '../../helper.js'

const SHA = (c: string): string => c.repeat(40)

const build = (patch: Partial<BuildRecord> = {}): BuildRecord => buildRecord({
  id: 5,
  project: 'demo',
  images: [imageResult('registry.test/demo/web')],
  deploy: { ...buildRecord().deploy, status: 'skipped', namespace: null, resources: [] },
  ...patch
})

const NONE = { previousCommit: null, commitOwner: null }

const NOTIFY = '\n[[projects.notify]]\nurl = "https://chat.test/hooks/T1/secret-part?token=abc"\nevents = ["queued", "running"]\nformat = "slack"\n\n[[projects.notify]]\nurl = "https://ci.test/events"\n'
const STATUS = '[projects.status]\ntoken_env = "STATUS_TOKEN"\n'

function planner (extra: string, publicUrl = true): ConfiguredReports {
  let toml = configToml([{ slug: 'demo', url: 'https://github.com/org/demo', extra }, { slug: 'quiet' }])
  if (publicUrl) toml = toml.replace('registry = "registry.test"', 'registry = "registry.test"\npublic_url = "https://hook.test"')
  return new ConfiguredReports(parseConfig(toml, 'test.toml'))
}

t.test('only projects with a status or notify target report; their builds are then planned', async t => {
  const reports = planner(STATUS + NOTIFY)
  t.equal(reports.reports('demo'), true)
  t.equal(reports.reports('quiet'), false)
  t.equal(reports.reports('unknown'), false)
})

t.test('a queued build sends its commit status and the notifications subscribed to queued', async t => {
  const plan = planner(STATUS + NOTIFY).plan(build(), NONE)
  t.same(plan.map(report => [report.target, report.kind, report.label, report.stream, report.event, report.commit, report.state, report.replaces]), [
    ['status', 'status', 'github build-hook/demo', `status:demo:${SHA('a')}`, 'queued', SHA('a'), 'pending', true],
    ['notify:0', 'notify', 'notify chat.test (slack)', 'notify:demo:0:5', 'queued', null, null, false]
  ])
  t.match(plan[0]!.request, { method: 'POST', url: `https://api.github.com/repos/org/demo/statuses/${SHA('a')}` })
  t.same(JSON.parse(plan[0]!.request.body), { state: 'pending', target_url: 'https://hook.test/ui/builds/5', description: 'Queued as build #5', context: 'build-hook/demo' })
  t.notMatch(plan[1]!.label, 'secret-part', 'a notify target is named by its host only')
})

t.test('a build that built the branch head also ends the pushed commit\'s status: not built', async t => {
  const plan = planner(STATUS).plan(build({ status: 'running', commit: SHA('b') }), NONE)
  t.same(plan.map(report => [report.commit, report.state, JSON.parse(report.request.body).description]), [
    [SHA('b'), 'pending', 'Building demo/web (build #5)'],
    [SHA('a'), 'error', 'Not built: the branch had moved on to bbbbbbbbbbbb, which build #5 builds']
  ])
  t.same(planner(STATUS).plan(build({ status: 'succeeded', commit: SHA('b') }), NONE).map(report => report.commit), [SHA('b')], 'once, when it starts')
})

t.test('a rollback sends no commit status (its commit keeps the one of the build that built it), but notifies', async t => {
  const plan = planner(STATUS + NOTIFY).plan(build({ status: 'succeeded', rollbackOf: 3, trigger: { ...build().trigger, source: 'rollback' } }), NONE)
  t.same(plan.map(report => report.target), ['notify:1'])
  t.match(JSON.parse(plan[0]!.request.body), { id: 5, status: 'succeeded', rollbackOf: 3 })
})

t.test('without app.public_url no status links anywhere', async t => {
  const [status] = planner(STATUS, false).plan(build(), NONE)
  t.same(Object.keys(JSON.parse(status!.request.body)), ['state', 'description', 'context'])
})

t.test('an attempt that builds another head than the attempt before ends that commit\'s states too', async t => {
  const plan = planner(STATUS).plan(build({ status: 'running', commit: SHA('c'), attempt: 2 }), { previousCommit: SHA('b'), commitOwner: null })
  t.same(plan.map(report => [report.commit, report.state]), [[SHA('c'), 'pending'], [SHA('a'), 'error'], [SHA('b'), 'error']])
  t.same(planner(STATUS).plan(build({ status: 'running', commit: SHA('b'), attempt: 2 }), { previousCommit: SHA('b'), commitOwner: null }).map(report => report.commit), [SHA('b'), SHA('a')], 'the same head again: nothing more')
})

t.test('a superseded build whose commit another build built (or builds) leaves that build\'s state on it', async t => {
  const owner = build({ id: 3, status: 'succeeded', commit: SHA('a'), images: [imageResult('registry.test/demo/web', { status: 'succeeded', digest: `sha256:${'1'.repeat(64)}` })] })
  const [status] = planner(STATUS).plan(build({ status: 'superseded', supersededBy: 9 }), { previousCommit: null, commitOwner: owner })
  t.same(JSON.parse(status!.request.body), { state: 'success', target_url: 'https://hook.test/ui/builds/3', description: 'Pushed demo/web@sha256:111111111111…', context: 'build-hook/demo' })
  t.equal(status!.event, 'superseded', 'still reported as the superseded build\'s change')
})
