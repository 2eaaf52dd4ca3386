import { performance, type EventLoopUtilization } from 'node:perf_hooks'
import v8 from 'node:v8'
import vm from 'node:vm'

/** What the collector reads and does: V8's in the server (`v8Probes`), fakes in tests. */
export interface HeapProbes {
  /** How busy the event loop was since the previous call, from 0 to 1. */
  busy: () => number
  /** The heap V8 has committed, in bytes. */
  committed: () => number
  /** A young-generation collection (a scavenge). */
  collectYoung: () => void
  /** A full collection. */
  collectAll: () => void
}

export interface HeapCollected {
  /** The committed heap before the two collections and after them, in MB. */
  heapMb: { before: number, after: number }
  /** How long the full collection held the event loop. */
  durationMs: number
}

export interface IdleCollectorOptions {
  probes: HeapProbes
  /** Told after each full collection (the server logs it). */
  onCollected: (collected: HeapCollected) => void
  /** How much the committed heap must have grown since start-up or the last collection. */
  growthBytes?: number
  /** An interval whose event loop was busy for at least this share of the time is not idle (1%: 50 ms in 5 s). */
  idleBelow?: number
}

const MB = 1024 * 1024

/**
 * Gives back the memory a burst left behind, once the server is idle. After thousands of pushes V8 keeps its
 * young generation at its largest (2 x 16 MB where no memory limit lowers it) and the old generation's garbage,
 * and nothing collects them while nothing allocates: RSS stayed at 125 MB after 10,000 builds, however long
 * the server idled (bench/results.md, step 17). `tick()`, called at a fixed interval: once the committed heap
 * has grown by `growthBytes` and an interval passed idle, a young collection; if the next interval is idle
 * too, a full one. Why two: on Node 20 a full collection alone shrank the young generation in some runs only,
 * a young one and then a full one a moment later in every run (measured, few runs). This fits V8's rule of
 * shrinking it only when the allocation rate between collections was low: the young collection makes that
 * span start once the server is idle. A collection's own time is not counted as the server being busy.
 */
export class IdleCollector {
  readonly #options: Required<IdleCollectorOptions>
  /** The committed heap after start-up or the last full collection: growth is counted from here. */
  #floor: number
  /** The committed heap when the young collection ran, while waiting for the next idle interval. */
  #scavenged: number | null = null

  constructor (options: IdleCollectorOptions) {
    this.#options = { growthBytes: 16 * MB, idleBelow: 0.01, ...options }
    this.#floor = options.probes.committed()
  }

  tick (): void {
    const { probes, growthBytes, idleBelow, onCollected } = this.#options
    if (probes.busy() >= idleBelow) {
      this.#scavenged = null
      return
    }
    if (this.#scavenged === null) {
      const before = probes.committed()
      if (before - this.#floor < growthBytes) return
      probes.collectYoung()
      probes.busy() // the collection's own time is not the server's: the next interval is measured from here
      this.#scavenged = before
      return
    }
    const started = performance.now()
    probes.collectAll()
    const durationMs = Math.round(performance.now() - started)
    probes.busy()
    this.#floor = probes.committed()
    onCollected({ heapMb: { before: Math.round(this.#scavenged / MB), after: Math.round(this.#floor / MB) }, durationMs })
    this.#scavenged = null
  }
}

/**
 * V8's figures and collections for this process. `gc` exists only behind `--expose-gc`: the flag is set at run
 * time (as jest does for its leak detection) when the first collection is needed, so a start never carries it
 * (V8 refuses a code cache written under other flags: lib/code-cache.ts).
 */
export function v8Probes (): HeapProbes {
  let previous: EventLoopUtilization = performance.eventLoopUtilization()
  let gc: ((options?: { type: 'minor' | 'major' }) => void) | undefined
  const collector = (): NonNullable<typeof gc> => {
    if (gc === undefined) {
      v8.setFlagsFromString('--expose-gc')
      gc = vm.runInNewContext('gc') as NonNullable<typeof gc>
    }
    return gc
  }
  return {
    busy: () => {
      const now = performance.eventLoopUtilization()
      const { utilization } = performance.eventLoopUtilization(now, previous)
      previous = now
      return utilization
    },
    committed: () => v8.getHeapStatistics().total_heap_size,
    collectYoung: () => collector()({ type: 'minor' }),
    // Not { type: 'major' }: on Node 20 that left the garbage in place (measured); gc() with no options collects it.
    collectAll: () => collector()()
  }
}

export interface IdleCollection {
  stop: () => void
}

/**
 * Ticks an IdleCollector on V8's figures (or `probes`, in tests) every `intervalMs`, without keeping the
 * process alive, and logs each full collection at info.
 */
export function collectWhenIdle (log: { info: (fields: HeapCollected, message: string) => void }, { intervalMs = 5000, probes = v8Probes() }: { intervalMs?: number, probes?: HeapProbes } = {}): IdleCollection {
  const collector = new IdleCollector({ probes, onCollected: collected => log.info(collected, 'Heap collected while idle.') })
  const timer = setInterval(() => collector.tick(), intervalMs).unref()
  return { stop: () => clearInterval(timer) }
}
