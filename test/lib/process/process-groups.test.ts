import { spawn } from 'node:child_process'
import { once } from 'node:events'
import t, { type Test } from 'tap'
import { endLeftovers, isGroupRunning, recordGroups, type RecordedGroup } from '../../../lib/process/process-groups.js'
import { isRunning, readProcStat } from '../../../lib/process/proc-stat.js'
import { runProcess } from '../../../lib/process/run-process.js'
import { BuildStore } from '../../../lib/store/build-store.js'
import { tempDir } from '../../helper.js'

const silent = { debug () {}, info () {}, warn () {}, error () {}, fatal () {}, trace () {}, child () { return silent } }

/** A real process, in a group of its own unless `detached` is false, killed (group and all) when the test ends. */
async function running (t: Test, script: string, detached = true) {
  const child = spawn(process.execPath, ['-e', script], { detached, stdio: ['ignore', 'pipe', 'inherit'] })
  const exited = once(child, 'exit')
  t.teardown(async () => {
    try { process.kill(detached ? -child.pid! : child.pid!, 'SIGKILL') } catch { /* gone */ }
    await exited
  })
  await once(child.stdout!, 'data') // its signal handlers are in place
  const group: RecordedGroup = { pgid: child.pid!, startTime: readProcStat(child.pid!)!.startTime, buildId: 1, command: 'docker buildx build', recordedAt: new Date().toISOString() }
  return { child, group }
}

const IDLE = 'setInterval(() => {}, 1000); console.log("ready")'

t.test('a recorded group whose leader has another start time (its pid was reused) is not touched', async t => {
  const { child, group } = await running(t, IDLE)
  t.same(await endLeftovers([{ ...group, startTime: group.startTime + 1 }], { graceMs: 100, log: silent }), ['gone'])
  t.ok(isRunning(child.pid!), 'still running')
})

t.test('a recorded pid that does not lead its own group (any more) is not touched', async t => {
  const { child, group } = await running(t, IDLE, false)
  t.same(await endLeftovers([group], { graceMs: 100, log: silent }), ['gone'])
  t.ok(isRunning(child.pid!), 'still running')
})

t.test('a recorded group that is gone is left alone', async t => {
  t.same(await endLeftovers([{ pgid: 2 ** 22 + 1, startTime: 1, buildId: null, command: 'docker buildx ls', recordedAt: '' }], { graceMs: 100, log: silent }), ['gone'])
})

t.test('the same process: its whole group is interrupted and waited for', async t => {
  // The leader and a child of its, in its group; both leave on SIGINT.
  const { child, group } = await running(t, `require('child_process').spawn(process.execPath, ['-e', ${JSON.stringify(IDLE)}], { stdio: ['ignore', 'ignore', 'inherit'] }); ${IDLE}`)
  const warnings: unknown[] = []
  t.ok(isGroupRunning(group.pgid))
  t.same(await endLeftovers([group], { graceMs: 10_000, log: { ...silent, warn: (fields: unknown) => warnings.push(fields) } }), ['interrupted'])
  t.notOk(isGroupRunning(group.pgid), 'no process of the group runs')
  t.notOk(isRunning(child.pid!))
  t.same(warnings, [{ pgid: group.pgid, buildId: 1, command: 'docker buildx build', outcome: 'interrupted' }])
})

t.test('a group that ignores SIGINT is SIGKILLed after the grace period', async t => {
  const { group } = await running(t, `process.on('SIGINT', () => {}); ${IDLE}`)
  t.same(await endLeftovers([group], { graceMs: 200, log: silent }), ['killed'])
  t.notOk(isGroupRunning(group.pgid))
})

t.test("a child's group is recorded with its start time while it runs, and forgotten when it exits", async t => {
  const store = new BuildStore(tempDir(t))
  t.teardown(() => store.close())
  const groups = store.processGroups
  const seen: RecordedGroup[][] = []
  const result = await runProcess(process.execPath, ['-e', 'console.log(process.pid)'], {
    env: { PATH: process.env.PATH! },
    groups: recordGroups(groups, { buildId: 7, command: 'docker buildx build' }),
    onLine: () => seen.push(groups.list())
  })
  t.equal(result.code, 0)
  t.match(seen, [[{ buildId: 7, command: 'docker buildx build', startTime: Number }]])
  t.equal(groups.list().length, 0)
  store.close()
  groups.remove(seen[0]![0]!.pgid, seen[0]![0]!.startTime) // a child that ends once the store has closed
})
