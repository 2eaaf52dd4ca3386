import { constants, PerformanceObserver, type PerformanceEntry } from 'node:perf_hooks'
import v8 from 'node:v8'
import t from 'tap'
import { collectWhenIdle, IdleCollector, v8Probes, type HeapCollected, type HeapProbes } from '../../../lib/memory/idle-collector.js'
import { eventually, within } from '../../helper.js'

const MB = 1024 * 1024

/** Probes whose figures the test sets, recording the collections asked for. */
function fakeProbes (): HeapProbes & { load: number, heap: number, calls: string[] } {
  // What the next read of the load says once, before `load` again: the time a collection itself took.
  let pending: number | null = null
  const probes = {
    load: 0,
    heap: 40 * MB,
    calls: [] as string[],
    busy: () => {
      const load = pending ?? probes.load
      pending = null
      return load
    },
    committed: () => probes.heap,
    collectYoung: () => { probes.calls.push('young'); pending = 0.9 },
    collectAll: () => { probes.calls.push('all'); probes.heap = 30 * MB; pending = 0.9 }
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

t.test("a collection's own time does not make the next interval busy", async t => {
  // The fake's collections leave a load of 0.9 for the next read: the collector takes it right after collecting.
  const probes = fakeProbes()
  const { idle, collected } = collector(probes)
  probes.heap = 64 * MB
  idle.tick()
  idle.tick()
  t.same(probes.calls, ['young', 'all'])
  t.equal(collected.length, 1)
  probes.heap = 64 * MB
  idle.tick()
  t.same(probes.calls, ['young', 'all', 'young'], 'nor the one after a full collection')
})

t.test('a busy interval collects nothing, and one between the two collections starts over', async t => {
  const probes = fakeProbes()
  const { idle, collected } = collector(probes)
  probes.heap = 64 * MB
  probes.load = 0.01
  idle.tick()
  t.same(probes.calls, [], 'busy 1% of the time: not idle')
  probes.load = 0.009
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

t.test("V8's probes: the event loop's load since the last call, the committed heap, and a young and a full collection", async t => {
  const probes = v8Probes()
  const load = probes.busy()
  t.ok(load >= 0 && load <= 1, `a share of the time: ${load}`)
  const started = Date.now()
  while (Date.now() - started < 50); // busy for 50 ms
  t.ok(probes.busy() > 0.5, 'busy since the previous call')
  t.ok(probes.committed() > 0)
  let garbage: unknown[] | null = Array.from({ length: 400_000 }, (_, i) => ({ i, text: `entry ${i}` }))
  t.ok(garbage.length > 0)
  garbage = null
  const used = v8.getHeapStatistics().used_heap_size
  // Which collections ran, as Node reports them (a while after they ran).
  const kinds: number[] = []
  const observer = new PerformanceObserver(list => { kinds.push(...list.getEntries().map(entry => ((entry as PerformanceEntry & { detail: { kind: number } }).detail).kind)) })
  observer.observe({ entryTypes: ['gc'] })
  t.teardown(() => observer.disconnect())
  probes.collectYoung()
  await eventually(() => kinds.includes(constants.NODE_PERFORMANCE_GC_MINOR) || undefined, 'the young collection reported')
  probes.collectAll()
  await eventually(() => kinds.includes(constants.NODE_PERFORMANCE_GC_MAJOR) || undefined, 'the full collection reported')
  t.ok(v8.getHeapStatistics().used_heap_size < used - 10 * MB, 'which took the garbage')
  t.equal((globalThis as { gc?: unknown }).gc, undefined, 'gc stays out of the global scope')
})

t.test('collectWhenIdle ticks its collector at the interval without keeping the process alive, logs each collection, and stops', async t => {
  const lines: Array<{ fields: HeapCollected, message: string }> = []
  const probes = fakeProbes()
  let ticks = 0
  const busy = probes.busy
  probes.busy = () => { ticks++; return busy() }
  const timersBefore = process.getActiveResourcesInfo().filter(type => type === 'Timeout').length
  let logged: () => void = () => {}
  const collection = collectWhenIdle({ info: (fields, message) => { lines.push({ fields, message }); logged() } }, { intervalMs: 5, probes })
  t.teardown(() => collection.stop())
  t.equal(process.getActiveResourcesInfo().filter(type => type === 'Timeout').length, timersBefore, 'its timer keeps nothing alive')
  probes.heap = 64 * MB
  await within(new Promise<void>(resolve => { logged = resolve }), 'the collection')
  t.same(lines, [{ fields: { heapMb: { before: 64, after: 30 }, durationMs: lines[0]!.fields.durationMs }, message: 'Heap collected while idle.' }])
  collection.stop()
  const stoppedAt = ticks
  await new Promise(resolve => setTimeout(resolve, 50))
  t.equal(ticks, stoppedAt, 'no tick once stopped')
})
