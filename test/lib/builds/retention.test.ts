import t, { type Test } from 'tap'
import { setImmediate as nextTurn } from 'node:timers/promises'
import { BuildStore } from '../../../lib/store/build-store.js'
import { Retention } from '../../../lib/builds/retention.js'
import { eventually } from '../../helper.js'

/** A Retention over a real store whose prunes (by project) and reported errors are recorded. */
function watched (t: Test): { store: BuildStore, retention: Retention, calls: string[], errors: unknown[] } {
  const dataDir = t.testdir()
  const store = new BuildStore(dataDir)
  t.teardown(() => store.close())
  const calls: string[] = []
  const prune = store.prune.bind(store)
  store.prune = (project: string, keep: number) => { calls.push(project); return prune(project, keep) }
  const errors: unknown[] = []
  const retention = new Retention({ store, dataDir, keep: 1, onError: err => errors.push(err) })
  return { store, retention, calls, errors }
}

t.test('Retention prunes each project once per turn, after the turn, however many of its builds finished', async t => {
  const { retention, calls, errors } = watched(t)
  retention.finished('a')
  retention.finished('a')
  retention.finished('b')
  t.same(calls, [], 'nothing during the turn')
  await nextTurn()
  t.same(calls, ['a', 'b'], 'once per project')
  retention.finished('a')
  await nextTurn()
  t.same(calls, ['a', 'b', 'a'], 'and again in a later turn')
  t.same(errors, [])
})

t.test('stop drops what is pending and prunes no more (the store closes next)', async t => {
  const { retention, calls } = watched(t)
  retention.finished('a')
  retention.stop()
  retention.stop()
  await nextTurn()
  t.same(calls, [], 'stopped before the turn ended')
  retention.finished('b')
  await nextTurn()
  t.same(calls, [], 'nothing after stop')
})

t.test('a prune that fails is reported', async t => {
  const { store, retention, errors } = watched(t)
  store.close()
  retention.finished('a')
  await eventually(() => errors.length > 0 || undefined, 'the error')
  t.match(String(errors[0]), /database connection is not open/)
})
