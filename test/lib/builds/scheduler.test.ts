import { EventEmitter } from 'node:events'
import t, { type Test } from 'tap'
import { parseConfig, type ProjectSettings } from '../../../lib/config/index.js'
import { newBuild } from '../../../lib/builds/new-build.js'
import { BuildInterrupted, type BuildOutcome } from '../../../lib/builds/build-runner.js'
import { Scheduler, type SchedulerOptions } from '../../../lib/builds/scheduler.js'
import type { BuildRecord } from '../../../lib/schemas/build.js'
import type { Log } from '../../../lib/log.js'
import { BuildStore } from '../../../lib/store/build-store.js'
import { configToml, eventually, tempDir } from '../../helper.js'

const SLUGS = ['p1', 'p2', 'p3', 'p4', 'p5']
const PROJECTS = parseConfig(configToml(SLUGS.map(slug => ({ slug }))), 'test.toml').projects

const silent: Log = { error: () => {}, warn: () => {}, info: () => {}, debug: () => {}, child: () => silent }

/** A builder whose readiness the test sets. */
class Gate extends EventEmitter {
  ready = true
  state: { reason: string | null, bootstrapped: boolean } = { reason: null, bootstrapped: true }
  whenReady (signal?: AbortSignal): Promise<void> {
    if (this.ready) return Promise.resolve()
    return new Promise((resolve, reject) => {
      this.once('ready', resolve)
      signal?.addEventListener('abort', () => reject(signal.reason), { once: true })
    })
  }

  open (): void {
    this.ready = true
    this.state = { reason: null, bootstrapped: true }
    this.emit('state')
    this.emit('ready')
  }

  /** The builder went away (what the runner's report of an outage does). */
  close (reason: string): void {
    this.ready = false
    this.state = { reason, bootstrapped: true }
    this.emit('state')
  }
}

/** A scheduler over a real store, one build at a time, its builder ready: the test gives the rest (its runner, its head check). */
function scheduled (t: Test, options: Pick<SchedulerOptions, 'run'> & Partial<SchedulerOptions>): { store: BuildStore, scheduler: Scheduler } {
  const store = new BuildStore(tempDir(t))
  t.teardown(() => store.close())
  const scheduler = new Scheduler({ store, projects: PROJECTS, builder: new Gate(), maxConcurrent: 1, timeoutSeconds: 60, log: silent, ...options })
  t.teardown(() => scheduler.shutdown(0))
  return { store, scheduler }
}

/** Builds that run until the test finishes them. */
function harness (t: Test, options: { maxConcurrent?: number, projects?: readonly ProjectSettings[], timeoutSeconds?: number } = {}) {
  const store = new BuildStore(tempDir(t))
  t.teardown(() => store.close())
  const gate = new Gate()
  const running = new Map<number, (outcome: BuildOutcome) => void>()
  let peak = 0
  const log: string[] = []
  const recording: Log = { ...silent, error: (_obj, msg) => { log.push(String(msg)) }, warn: (_obj, msg) => { log.push(String(msg)) }, child: () => recording }
  const scheduler = new Scheduler({
    store,
    projects: options.projects ?? PROJECTS,
    builder: gate,
    maxConcurrent: options.maxConcurrent ?? 2,
    timeoutSeconds: options.timeoutSeconds ?? 3600,
    log: recording,
    run: (build: BuildRecord, _project, signal) => new Promise<BuildOutcome>(resolve => {
      running.set(build.id, resolve)
      peak = Math.max(peak, running.size)
      signal.addEventListener('abort', () => resolve({ status: (signal.reason as BuildInterrupted).status, error: (signal.reason as BuildInterrupted).message }))
    }).finally(() => running.delete(build.id))
  })
  t.teardown(() => scheduler.shutdown(0))
  const record = (slug: string, commit = 'a'.repeat(40)) => {
    const project = PROJECTS.find(p => p.slug === slug)!
    const { build } = store.record(newBuild(project, { source: 'api', event: 'trigger', delivery: null, ref: 'refs/heads/main', commit, sender: null }))
    scheduler.poke()
    return build.id
  }
  const finish = async (id: number) => {
    running.get(id)!({ status: 'succeeded', error: null })
    await eventually(() => store.get(id)!.status === 'succeeded' || undefined, `build ${id} to succeed`)
  }
  return { store, gate, scheduler, running, record, finish, peak: () => peak, log }
}

t.test('with max_concurrent_builds = 2 and five projects triggered, never more than two run, and all five finish', async t => {
  const h = harness(t)
  const ids = SLUGS.map(slug => h.record(slug))
  t.same([...h.running.keys()], [1, 2], 'the oldest two')
  t.same(ids.map(id => h.store.get(id)!.status), ['running', 'running', 'queued', 'queued', 'queued'])
  for (const id of ids) {
    await eventually(() => h.running.has(id) || undefined, `build ${id} to start`)
    await h.finish(id)
  }
  t.equal(h.peak(), 2)
  t.same(ids.map(id => h.store.get(id)!.status), ['succeeded', 'succeeded', 'succeeded', 'succeeded', 'succeeded'])
})

t.test('one build per project at a time, in arrival order', async t => {
  const h = harness(t)
  const first = h.record('p1', 'a'.repeat(40))
  const second = h.record('p1', 'b'.repeat(40))
  const other = h.record('p2')
  t.same([...h.running.keys()], [first, other], 'the second build of p1 waits although a slot is free')
  await h.finish(first)
  await eventually(() => h.running.has(second) || undefined, 'the second build of p1 to start')
  t.equal(h.store.get(second)!.status, 'running')
})

t.test('queued builds wait while the builder is not ready, and start when it is', async t => {
  const h = harness(t)
  h.gate.ready = false
  const id = h.record('p1')
  h.scheduler.poke()
  t.equal(h.store.get(id)!.status, 'queued')
  h.gate.open()
  await eventually(() => h.running.has(id) || undefined, 'the build to start')
})

/** A rollback of `project` to the images `digest` names (what BuildRequests.rollback records). */
function rollbackOf (project: ProjectSettings, digest: string) {
  return {
    ...newBuild(project, { source: 'rollback', event: 'rollback', delivery: null, ref: 'refs/heads/main', commit: 'c'.repeat(40), sender: null }),
    images: project.images.map(image => ({ image: image.name, tags: [image.tag], digest })),
    rollbackOf: 1
  }
}

t.test('a rollback needs no BuildKit: it runs while the builder is down, and builds queued before it still wait', async t => {
  const h = harness(t)
  h.gate.ready = false
  const waiting = h.record('p2')
  const rollback = h.store.record(rollbackOf(PROJECTS[0]!, `sha256:${'1'.repeat(64)}`)).build.id
  h.scheduler.poke()
  await eventually(() => h.running.has(rollback) || undefined, 'the rollback to start')
  t.equal(h.store.get(waiting)!.status, 'queued', 'the build waits for the builder')
  await h.finish(rollback)
  h.gate.open()
  await eventually(() => h.running.has(waiting) || undefined, 'the build to start once the builder is back')
})

t.test('a rollback skips the head check: it deploys the commit it names', async t => {
  let checks = 0
  const { store, scheduler } = scheduled(t, {
    resolveHead: async () => { checks++; return 'b'.repeat(40) },
    run: async () => ({ status: 'succeeded', error: null })
  })
  const { build } = store.record(rollbackOf(PROJECTS[0]!, `sha256:${'1'.repeat(64)}`))
  scheduler.poke()
  await eventually(() => store.get(build.id)!.status === 'succeeded' || undefined, 'the rollback')
  t.equal(checks, 0)
  t.match(store.get(build.id), { commit: 'c'.repeat(40), commitReason: null })
})

t.test('a build that lost BuildKit is queued again with the reason, waits for the builder, and runs as the next attempt', async t => {
  const h = harness(t)
  const id = h.record('p1')
  await eventually(() => h.running.get(id), 'the build to start')
  h.gate.ready = false // what the runner's report of the outage does to the builder
  const retry = { reason: 'builder-connection-lost' as const, error: 'web: the connection to BuildKit was lost' }
  h.running.get(id)!({ status: 'failed', error: retry.error, retry })
  const queued = await eventually(() => { const build = h.store.get(id)!; return build.status === 'queued' ? build : undefined }, 'the build to be queued again')
  t.match(queued, { attempt: 2, error: null, finishedAt: null, retry: { attempt: 1, ...retry } })
  t.notOk(h.running.has(id), 'it waits for the builder')
  t.same(h.log, ['BuildKit went away: the build is queued again.'])
  h.gate.open()
  await eventually(() => h.running.get(id), 'attempt 2 to start')
  t.match(h.store.get(id), { status: 'running', attempt: 2 })
  await h.finish(id)
})

t.test('a build that lost BuildKit while a newer push was queued is superseded by it', async t => {
  const h = harness(t)
  const id = h.record('p1')
  await eventually(() => h.running.get(id), 'the build to start')
  const newer = h.record('p1', 'b'.repeat(40))
  h.running.get(id)!({ status: 'failed', error: 'web: lost', retry: { reason: 'builder-unreachable', error: 'web: lost' } })
  await eventually(() => h.running.get(newer), 'the newer build to start')
  t.match(h.store.get(id), { status: 'superseded', supersededBy: newer })
  t.same(h.log, ['BuildKit went away: a newer queued build replaces this one.'])
  await h.finish(newer)
})

t.test('a queued build of a project that is no longer configured fails with that reason', async t => {
  const h = harness(t, { projects: PROJECTS.slice(1) })
  const id = h.record('p1')
  t.match(h.store.get(id), { status: 'failed', error: "project 'p1' is no longer in the configuration" })
  t.same(h.log, ['Build failed: its project is no longer configured.'])
})

t.test('a runner that throws fails the build without its internals, and logs them', async t => {
  const logged: string[] = []
  const log: Log = { ...silent, error: (_obj, msg) => { logged.push(String(msg)) }, child: () => log }
  const { store, scheduler } = scheduled(t, { log, run: async () => { throw new Error('disk on fire') } })
  store.record(newBuild(PROJECTS[0]!, { source: 'api', event: 'trigger', delivery: null, ref: 'refs/heads/main', commit: 'a'.repeat(40), sender: null }))
  scheduler.poke()
  await scheduler.idle()
  t.match(store.get(1), { status: 'failed', error: 'internal error while building (see the service log)' })
  t.same(logged, ['Build crashed.'])
})

t.test('shutdown lets a build that ends within the grace period succeed, and cancels one that does not', async t => {
  const h = harness(t)
  const quick = h.record('p1')
  const slow = h.record('p2')
  const closing = h.scheduler.shutdown(500)
  h.record('p3')
  t.equal(h.store.get(3)!.status, 'queued', 'nothing starts once shutdown began')
  await h.finish(quick)
  await closing
  t.match(h.store.get(slow), { status: 'cancelled', error: 'cancelled: the service shut down' })
  t.equal(h.store.get(3)!.status, 'queued', 'queued builds stay queued for the next start')
})

t.test('shutdown with nothing running returns at once (not after its grace period), and starts nothing after', async t => {
  const h = harness(t)
  await h.scheduler.shutdown(10 * 60_000) // past tap's timeout: waiting for it would fail the test
  const id = h.record('p1')
  t.equal(h.store.get(id)!.status, 'queued')
  t.equal(h.running.size, 0)
  await h.scheduler.idle()
})

t.test('a head check whose resolver ignores its signal gives up after the timeout: the pushed commit is built, and why is recorded', async t => {
  const ran: BuildRecord[] = []
  const asked: AbortSignal[] = []
  const { store, scheduler } = scheduled(t, {
    resolveHead: (_project, signal) => { asked.push(signal); return new Promise<string>(() => {}) },
    headCheckTimeoutMs: 50,
    run: async build => { ran.push(build); return { status: 'succeeded', error: null } }
  })
  const commit = 'a'.repeat(40)
  store.record(newBuild(PROJECTS[0]!, { source: 'github', event: 'push', delivery: 'd1', ref: 'refs/heads/main', commit, sender: null }))
  scheduler.poke()
  t.equal(store.get(1)!.status, 'queued', 'queued while its head is checked')
  await eventually(() => store.get(1)!.status === 'succeeded' || undefined, 'the build')
  t.match(ran, [{ id: 1, status: 'running', commit, commitReason: 'the branch head could not be checked (git ls-remote timed out after 50 ms): built the pushed commit' }])
  t.equal(asked[0]!.aborted, true, 'the resolver was told to stop')
})

t.test('a head check that moved: the head is built and tagged, the pushed commit stays in the trigger', async t => {
  const head = 'b'.repeat(40)
  const { store, scheduler } = scheduled(t, {
    resolveHead: async () => head,
    run: async () => ({ status: 'succeeded', error: null })
  })
  const commit = 'a'.repeat(40)
  store.record(newBuild(PROJECTS[0]!, { source: 'gitlab', event: 'Push Hook', delivery: null, ref: 'refs/heads/main', commit, sender: null }))
  scheduler.poke()
  await eventually(() => store.get(1)!.status === 'succeeded' || undefined, 'the build')
  t.match(store.get(1), { trigger: { commit }, commit: head, commitReason: `the branch head moved to ${head} after this push of ${commit}: built the head`, images: [{ tags: ['latest', 'sha-bbbbbbbbbbbb'] }] })
})

t.test('a build superseded while its head is checked never starts; the newer one runs next', async t => {
  const checks: Array<(head: string) => void> = []
  const ran: number[] = []
  const { store, scheduler } = scheduled(t, {
    maxConcurrent: 2,
    resolveHead: () => new Promise<string>(resolve => checks.push(resolve)),
    run: async build => { ran.push(build.id); return { status: 'succeeded', error: null } }
  })
  const push = (commit: string) => store.record(newBuild(PROJECTS[0]!, { source: 'github', event: 'push', delivery: null, ref: 'refs/heads/main', commit, sender: null }))
  push('a'.repeat(40))
  scheduler.poke()
  await eventually(() => checks[0], 'the first head check')
  t.same(push('b'.repeat(40)).superseded, [1])
  scheduler.poke()
  t.equal(checks.length, 1, 'the project has one build at a time, checks included')
  // The first check never answers: superseded, it stops at once and frees the project for the newer build.
  await eventually(() => checks[1], 'the newer build to check its head')
  checks[1]!('b'.repeat(40))
  await eventually(() => store.get(2)!.status === 'succeeded' || undefined, 'the newer build')
  t.same(ran, [2])
  t.match(store.get(1), { status: 'superseded', startedAt: null, commit: null })
})

t.test('a build that runs again after its head moved never goes back: an unreachable host builds the head found before', async t => {
  const pushed = 'a'.repeat(40)
  const head = 'b'.repeat(40)
  const answers: Array<() => Promise<string>> = [async () => head, async () => { throw new Error('connection refused') }, async () => pushed]
  const ran: Array<Pick<BuildRecord, 'attempt' | 'commit' | 'commitReason'> & { tags: string[] }> = []
  const { store, scheduler } = scheduled(t, {
    resolveHead: () => answers.shift()!(),
    run: async build => {
      ran.push({ attempt: build.attempt, commit: build.commit, commitReason: build.commitReason, tags: build.images[0]!.tags })
      // BuildKit goes away during the first two attempts.
      return build.attempt < 3 ? { status: 'failed', error: 'lost', retry: { reason: 'builder-connection-lost', error: 'lost' } } : { status: 'succeeded', error: null }
    }
  })
  store.record(newBuild(PROJECTS[0]!, { source: 'github', event: 'push', delivery: null, ref: 'refs/heads/main', commit: pushed, sender: null }))
  scheduler.poke()
  await eventually(() => store.get(1)!.status === 'succeeded' || undefined, 'the third attempt')
  t.same(ran, [
    { attempt: 1, commit: head, commitReason: `the branch head moved to ${head} after this push of ${pushed}: built the head`, tags: ['latest', 'sha-bbbbbbbbbbbb'] },
    { attempt: 2, commit: head, commitReason: `the branch head could not be checked (connection refused): built ${head}, the head found before`, tags: ['latest', 'sha-bbbbbbbbbbbb'] },
    { attempt: 3, commit: pushed, commitReason: null, tags: ['latest', 'sha-aaaaaaaaaaaa'] }
  ], 'the head found before, then the head again (pushed back), each tagged for what it builds')
})

t.test('a build cancelled while its attempt ends because BuildKit went away is cancelled, not queued again', async t => {
  let end: (() => void) | undefined
  const { store, scheduler } = scheduled(t, {
    // The attempt has lost BuildKit and is closing its log when the cancel comes: it still reports the outage.
    run: () => new Promise<BuildOutcome>(resolve => { end = () => resolve({ status: 'failed', error: 'lost', retry: { reason: 'builder-connection-lost', error: 'lost' } }) })
  })
  store.record(newBuild(PROJECTS[0]!, { source: 'api', event: 'trigger', delivery: null, ref: 'refs/heads/main', commit: 'a'.repeat(40), sender: null }))
  scheduler.poke()
  await eventually(() => end, 'the build to run')
  t.ok(scheduler.interrupt(1, new BuildInterrupted('cancelled', 'cancelled through the API')))
  end!()
  await eventually(() => store.get(1)!.status === 'cancelled' || undefined, 'the build to be recorded')
  t.match(store.get(1), { status: 'cancelled', error: 'cancelled through the API', attempt: 1, retry: null })
})

t.test('waitReason says why a queued build waits, as the scheduler decides it: its project, the builder, a slot, or nothing', async t => {
  const h = harness(t, { maxConcurrent: 1 })
  const first = h.record('p1', 'a'.repeat(40))
  const behind = h.record('p1', 'b'.repeat(40))
  const other = h.record('p2')
  const reason = (id: number) => h.scheduler.waitReason(h.store.get(id)!)
  t.same(reason(behind), { kind: 'project', build: first, project: 'p1' })
  t.same(reason(other), { kind: 'slots', max: 1, builds: [first] })
  h.gate.close('BuildKit is unreachable at tcp://buildkitd:1234')
  t.same(reason(other), { kind: 'builder', reason: 'BuildKit is unreachable at tcp://buildkitd:1234', bootstrapped: true })
  t.same(reason(behind), { kind: 'project', build: first, project: 'p1' }, 'its project comes first')
  h.gate.open()
  h.running.get(first)!({ status: 'failed', error: 'step failed' })
  await eventually(() => h.running.get(behind), 'the next build of p1 to start')
  await h.finish(behind)
  await eventually(() => h.running.get(other), 'p2 to start')
  await h.finish(other)
  const latecomer = h.store.record(newBuild(PROJECTS[2]!, { source: 'api', event: 'trigger', delivery: null, ref: 'refs/heads/main', commit: 'c'.repeat(40), sender: null })).build.id
  t.same(reason(latecomer), { kind: 'next' }, 'recorded, and not looked at yet')
})

t.test('a webhook build whose branch head is being checked holds its slot: that is what it waits for', async t => {
  let answer!: (head: string) => void
  const { store, scheduler } = scheduled(t, {
    resolveHead: () => new Promise(resolve => { answer = resolve }),
    run: async () => ({ status: 'succeeded', error: null })
  })
  const { build } = store.record(newBuild(PROJECTS[0]!, { source: 'github', event: 'push', delivery: null, ref: 'refs/heads/main', commit: 'a'.repeat(40), sender: null }))
  scheduler.poke()
  t.same(scheduler.waitReason(store.get(build.id)!), { kind: 'head-check' })
  answer('a'.repeat(40))
  await eventually(() => store.get(build.id)!.status === 'succeeded' || undefined, 'the build')
})

t.test('waits is emitted when builds start and end and when the builder goes down; its return is told by the poke that follows', async t => {
  const h = harness(t, { maxConcurrent: 1 })
  let emitted = 0
  h.scheduler.on('waits', () => { emitted++ })
  const id = h.record('p1')
  t.equal(emitted, 1, 'the poke that started it')
  h.gate.close('down')
  t.equal(emitted, 2, 'the builder went down')
  h.gate.open()
  t.equal(emitted, 2, 'nothing yet: the scheduler starts what waited first')
  await h.finish(id)
  t.equal(emitted, 3, 'the build ended')
  await h.scheduler.shutdown(0)
  t.equal(h.gate.listenerCount('state'), 0, 'after shutdown, nothing listens to the builder')
  h.scheduler.poke()
  t.equal(emitted, 3, 'a stopped scheduler starts nothing and says nothing')
})
