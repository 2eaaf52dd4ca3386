import { EventEmitter } from 'node:events'
import t from 'tap'
import { BuildEvents, streamSubscriber, type BuildEventSource } from '../../../lib/builds/build-events.js'
import type { BuildRecord } from '../../../lib/schemas/build.js'
import type { ChangeEvent, UpdateEvent } from '../../../lib/store/build-store.js'
import { buildRecord } from '../../fixtures/build-record.js'

function source () {
  const emitter = new EventEmitter<{ change: [ChangeEvent], updated: [UpdateEvent] }>()
  const reads: number[] = []
  const store = Object.assign(emitter, { reads, get: (id: number): BuildRecord => { reads.push(id); return buildRecord({ id }) } })
  return Object.assign(store, { asSource: store as unknown as BuildEventSource })
}

t.test('nothing is read while nobody listens; each change is read and serialised once for all subscribers', async t => {
  const store = source()
  const events = new BuildEvents(store.asSource)
  store.emit('change', { id: 1, project: 'app', status: 'queued' })
  t.same(store.reads, [])
  const got: string[][] = [[], []]
  const unsubscribe = got.map(list => events.subscribe({ build: json => list.push(json), close: () => {} }))
  store.emit('change', { id: 2, project: 'app', status: 'queued' })
  t.same(store.reads, [2])
  t.same(got, [[JSON.stringify(buildRecord({ id: 2 }))], [JSON.stringify(buildRecord({ id: 2 }))]])
  store.emit('updated', { id: 3 })
  events.changed(4)
  t.same(store.reads, [2, 3, 4], 'an update of a record without a change of status, and a report\'s outcome, too')
  unsubscribe[0]!()
  t.equal(events.size, 1)
})

t.test('shutting down closes every subscriber, stops listening, and closes a late one at once', async t => {
  const store = source()
  const events = new BuildEvents(store.asSource)
  const closed: string[] = []
  events.subscribe({ build: () => {}, close: () => closed.push('first') })
  events.shutDown()
  t.same(closed, ['first'])
  t.equal(store.listenerCount('change') + store.listenerCount('updated'), 0)
  const unsubscribe = events.subscribe({ build: () => t.fail('no event after shutdown'), close: () => closed.push('late') })
  t.same(closed, ['first', 'late'])
  t.equal(events.size, 0)
  unsubscribe()
})

t.test('a stream subscriber sends build events while connected; a closed stream or a failed write misses them quietly', async t => {
  const sent: unknown[] = []
  let connected = true
  let fail = false
  let closes = 0
  let backlogged = false
  const subscriber = streamSubscriber({
    get isConnected () { return connected },
    get backlogged () { return backlogged },
    send: async message => { if (fail) throw new Error('write after end'); sent.push(message) },
    close: () => { closes++ }
  })
  subscriber.build('{"id":1}')
  fail = true
  subscriber.build('{"id":2}')
  connected = false
  subscriber.build('{"id":3}')
  await new Promise(resolve => setImmediate(resolve))
  t.same(sent, [{ event: 'build', data: '{"id":1}' }])
  subscriber.close()
  t.equal(closes, 1)
  connected = true
  fail = false
  backlogged = true
  subscriber.build('{"id":4}')
  t.equal(closes, 2, 'a client that stopped reading is closed, not written to')
  t.equal(sent.length, 1)
})
