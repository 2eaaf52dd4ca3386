import t from 'tap'
import { collectWhenIdle, IdleCollector, v8Probes, type HeapCollected, type HeapProbes } from '../../../lib/memory/idle-collector.js'
import { within } from '../../helper.js'

const MB = 1024 * 1024

/** Probes whose figures the test sets, recording the collections asked for. */
function fakeProbes (): HeapProbes & { load: number, heap: number, calls: string[] } {
  const probes = {
    load: 0,
    heap: 40 * MB,
    calls: [] as string[],
    busy: () => probes.load,
    committed: () => probes.heap,
    collectYoung: () => { probes.calls.push('young') },
    collectAll: () => { probes.calls.push('all'); probes.heap = 30 * MB }
  }
  return probes
}

function collector (probes: HeapProbes): { idle: IdleCollector, collected: HeapCollected[] } {
  const collected: HeapCollected[] = []
  return { idle: new IdleCollector({ probes, onCollected: entry => collected.push(entry) }), collected }
}

t.test('nothing is collected while the heap has not grown by 16 MB since start-up, however idle', async t => {
  const probes = fakeProbes()
  const { idle, collected } = collector(probes)
  probes.heap += 16 * MB - 1
  for (let i = 0; i < 5; i++) idle.tick()
  t.same(probes.calls, [])
  t.same(collected, [])
})

t.test('once grown, an idle interval gets a young collection and the next idle one a full collection, reported', async t => {
  const probes = fakeProbes()
  const { idle, collected } = collector(probes)
  probes.heap = 64 * MB
  idle.tick()
  t.same(probes.calls, ['young'])
  t.same(collected, [])
  idle.tick()
  t.same(probes.calls, ['young', 'all'])
  t.equal(collected.length, 1)
  t.same(collected[0]!.heapMb, { before: 64, after: 30 })
  t.ok(collected[0]!.durationMs >= 0)
})

t.test('a busy interval collects nothing, and one between the two collections starts over', async t => {
  const probes = fakeProbes()
  const { idle, collected } = collector(probes)
  probes.heap = 64 * MB
  probes.load = 0.05
  idle.tick()
  t.same(probes.calls, [], 'busy: a burst still running')
  probes.load = 0.01
  idle.tick()
  probes.load = 0.5
  idle.tick()
  t.same(probes.calls, ['young'], 'no full collection in a busy interval')
  probes.load = 0
  idle.tick()
  idle.tick()
  t.same(probes.calls, ['young', 'young', 'all'], 'young again once idle, then the full one')
  t.equal(collected.length, 1)
})

t.test('after a full collection, growth is counted from what it left: no collection again until the heap grows again', async t => {
  const probes = fakeProbes()
  const { idle, collected } = collector(probes)
  probes.heap = 64 * MB
  idle.tick()
  idle.tick()
  probes.heap = 45 * MB // 30 MB after the collection, then 15 MB more
  for (let i = 0; i < 5; i++) idle.tick()
  t.same(probes.calls, ['young', 'all'])
  probes.heap = 46 * MB
  idle.tick()
  idle.tick()
  t.same(probes.calls, ['young', 'all', 'young', 'all'])
  t.equal(collected.length, 2)
})

t.test("V8's probes: the event loop's load since the last call, the committed heap, and collections that give back garbage", async t => {
  const probes = v8Probes()
  const load = probes.busy()
  t.ok(load >= 0 && load <= 1, `a share of the time: ${load}`)
  const started = Date.now()
  while (Date.now() - started < 50); // busy for 50 ms
  t.ok(probes.busy() > 0.5, 'busy since the previous call')
  let garbage: unknown[] | null = Array.from({ length: 400_000 }, (_, i) => ({ i, text: `entry ${i}` }))
  const grown = probes.committed()
  t.ok(garbage.length > 0)
  garbage = null
  probes.collectYoung()
  probes.collectAll()
  t.ok(probes.committed() < grown, `the heap shrank from ${Math.round(grown / MB)} MB to ${Math.round(probes.committed() / MB)} MB`)
  t.equal((globalThis as { gc?: unknown }).gc, undefined, 'gc stays out of the global scope')
})

t.test('collectWhenIdle collects on its own once the process idles after the heap grew, logs it, and stops', async t => {
  const lines: Array<{ fields: HeapCollected, message: string }> = []
  let logged: () => void = () => {}
  const collection = collectWhenIdle({ info: (fields, message) => { lines.push({ fields, message }); logged() } }, 50)
  t.teardown(() => collection.stop())
  let garbage: unknown[] | null = Array.from({ length: 600_000 }, (_, i) => ({ i, text: `entry ${i}` }))
  t.ok(garbage.length > 0)
  garbage = null
  await within(new Promise<void>(resolve => { logged = resolve }), 'the idle collection')
  t.equal(lines[0]!.message, 'Heap collected while idle.')
  t.ok(lines[0]!.fields.heapMb.after < lines[0]!.fields.heapMb.before, JSON.stringify(lines[0]!.fields))
  collection.stop()
})
