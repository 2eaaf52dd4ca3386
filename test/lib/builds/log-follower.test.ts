import { EventEmitter } from 'node:events'
import { appendFileSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import type { Readable } from 'node:stream'
import t from 'tap'
import { BuildLog, buildLogPath } from '../../../lib/builds/build-log.js'
import { newBuild } from '../../../lib/builds/new-build.js'
import { LiveLogs } from '../../../lib/builds/live-logs.js'
import { followLog, type FollowOptions } from '../../../lib/builds/log-follower.js'
import type { WaitReason } from '../../../lib/builds/wait-reason.js'
import { parseConfig } from '../../../lib/config/index.js'
import { Redactor } from '../../../lib/secrets/redactor.js'
import { BuildStore } from '../../../lib/store/build-store.js'
import { configToml, eventually, tempDir, within } from '../../helper.js'

const project = parseConfig(configToml(), 'test.toml').projects[0]!

function read (stream: Readable): Promise<string> {
  return new Promise((resolve, reject) => {
    let text = ''
    stream.on('data', chunk => { text += String(chunk) })
    stream.on('end', () => resolve(text))
    stream.on('error', reject)
  })
}

/** The scheduler's side of a follower, set by hand: why builds wait, and word that it may have changed. */
class Waits extends EventEmitter<{ waits: [] }> {
  reason: WaitReason = { kind: 'next' }
  waitReason = (): WaitReason => this.reason
  set (reason: WaitReason): void {
    this.reason = reason
    this.emit('waits')
  }
}

function setup (t: Parameters<typeof tempDir>[0]) {
  const dir = tempDir(t)
  const store = new BuildStore(dir)
  t.teardown(() => store.close())
  const live = new LiveLogs()
  const waits = new Waits()
  const follow = (id: number, options: Partial<FollowOptions> = {}) => followLog({ id, file: buildLogPath(dir, id), live, store, waits, ...options })
  const record = () => store.record(newBuild(project, { source: 'api', event: 'trigger', delivery: null, ref: 'refs/heads/main', commit: String(Math.random()).slice(2).padEnd(40, '0').slice(0, 40), sender: null })).build
  const open = (id: number) => {
    const log = new BuildLog(buildLogPath(dir, id), new Redactor([]))
    live.open(id, log)
    return log
  }
  return { dir, store, live, waits, record, open, follow }
}

t.test('lines written while the follower reads the start of the file come after it, once, in order; so does the end', async t => {
  const { dir, store, live, record, open } = setup(t)
  const { id } = record()
  const log = open(id)
  for (let i = 0; i < 100; i++) log.write('web', `line ${i}`)
  await within(new Promise(resolve => log.once('chunk', resolve)), 'the first chunk')
  while (log.flushed < readFileSync(log.file).length) await within(new Promise(resolve => log.once('chunk', resolve)), 'the rest of the chunks')
  const following = read(followLog({ id, file: log.file, live, store, waits: new Waits() }))
  // Written (and ended) before the follower's first read of the file can complete.
  for (let i = 100; i < 110; i++) log.write('web', `line ${i}`)
  await log.close()
  store.finish(id, 'succeeded', null) // what the scheduler records once the runner has closed the log
  const text = await following
  t.equal(text, readFileSync(buildLogPath(dir, id), 'utf8'))
  t.equal(text.split('\n').filter(Boolean).length, 110)
})

t.test('a follower of a queued build ignores other builds starting, and attaches to its own', async t => {
  const { dir, store, live, record, open } = setup(t)
  const first = record()
  const { id } = { id: first.id }
  const other = store.record(newBuild({ ...project, slug: 'other' }, { source: 'api', event: 'trigger', delivery: null, ref: 'refs/heads/main', commit: 'b'.repeat(40), sender: null })).build
  const following = read(followLog({ id, file: buildLogPath(dir, id), live, store, waits: new Waits() }))
  const otherLog = open(other.id)
  otherLog.write('web', 'not mine')
  await otherLog.close()
  store.start(id) // what the scheduler records before the runner opens the log
  const mine = open(id)
  mine.write('web', 'mine')
  await mine.close()
  store.finish(id, 'succeeded', null)
  t.equal(await following, `[build-hook] build ${id} is queued: waiting for its turn to start (nothing else holds it back)\n[build-hook] build ${id} started (attempt 1)\n[web] mine\n`)
  t.equal(live.listenerCount('opened'), 0)
  t.equal(store.listenerCount('final'), 0)
})

t.test('on shutdown, a follower of a running build gets what was written, then a last line saying why, and ends', async t => {
  const { store, live, record, open } = setup(t)
  const { id } = record()
  const log = open(id)
  log.write('web', 'step 1')
  const following = read(followLog({ id, file: log.file, live, store, waits: new Waits() }))
  log.write('web', 'step 2')
  await new Promise(resolve => log.once('chunk', resolve))
  live.shutDown({ graceMs: 1500 })
  live.shutDown({ graceMs: 0 }) // once is enough
  t.equal(await following, `[web] step 1\n[web] step 2\n[build-hook] build-hook is shutting down: this log ends here; build ${id} goes on for up to 2 s and is then cancelled (GET /builds/${id} has its outcome)\n`)
  log.write('web', 'step 3')
  await log.close()
  t.equal(log.listenerCount('chunk') + log.listenerCount('end') + live.listenerCount('closing'), 0, 'nothing left listening')
})

t.test('a follower that comes during shutdown gets the log so far and the last line; with no grace, the build is being cancelled', async t => {
  const { store, live, record, open } = setup(t)
  const { id } = record()
  const log = open(id)
  log.write('web', 'step 1')
  await new Promise(resolve => log.once('chunk', resolve))
  live.shutDown({ graceMs: 0 })
  t.equal(await read(followLog({ id, file: log.file, live, store, waits: new Waits() })), `[web] step 1\n[build-hook] build-hook is shutting down: this log ends here; build ${id} is being cancelled (GET /builds/${id} has its outcome)\n`)
  await log.close()
})

t.test('on shutdown, a follower of a queued build learns that it stays queued, before or after shutdown began', async t => {
  const { store, live, waits, record, follow } = setup(t)
  const { id } = record()
  const waiting = read(follow(id))
  live.shutDown({ graceMs: 1000 })
  const line = `[build-hook] build-hook is shutting down: build ${id} stays queued and runs after the next start\n`
  t.equal(await waiting, `[build-hook] build ${id} is queued: waiting for its turn to start (nothing else holds it back)\n${line}`)
  t.equal(live.listenerCount('opened') + live.listenerCount('closing') + store.listenerCount('final') + waits.listenerCount('waits'), 0, 'nothing left listening')
  t.equal(await read(follow(id)), line, 'a follower during shutdown gets the last line only')
})

t.test('a follower stays with a build queued again after BuildKit went away, through its next attempt, each line once', async t => {
  const { dir, store, live, record, open } = setup(t)
  const { id } = record()
  store.start(id)
  const first = open(id)
  first.write('web', 'attempt 1 line')
  const following = read(followLog({ id, file: buildLogPath(dir, id), live, store, waits: new Waits() }))
  first.write('web', 'attempt 1 lost BuildKit')
  await first.close() // the attempt ends while the store still says running
  live.close(id)
  t.equal(store.requeue(id, { reason: 'builder-connection-lost', error: 'lost' }), 'queued')
  store.start(id)
  const second = open(id)
  second.write('web', 'attempt 2 line')
  await second.close()
  live.close(id)
  store.finish(id, 'succeeded', null)
  const text = await within(following, 'the follower to end with the build')
  // Queued again and started within one tick: the follower never saw it queued, so it says nothing of it.
  t.equal(text, readFileSync(buildLogPath(dir, id), 'utf8'), 'the whole log')
  t.same(text.split('\n').filter(Boolean).map(line => line.replace(/^\[web\] /, '')), ['attempt 1 line', 'attempt 1 lost BuildKit', 'attempt 2 line'])
})

/** A log writer the test drives by hand (the follower needs its `flushed`, `chunk` and `end`): events come exactly when the test says. */
class HandLog extends EventEmitter {
  constructor (readonly file: string, public flushed: number) { super() }
  write (text: string): void {
    appendFileSync(this.file, text)
    this.flushed += Buffer.byteLength(text)
    this.emit('chunk', text)
  }
}

/** A running build whose first attempt's log (holding `backlog`) the test drives by hand, and its follower. */
function followedByHand (t: Parameters<typeof tempDir>[0], backlog: string) {
  const { dir, store, live, record } = setup(t)
  const { id } = record()
  store.start(id)
  const file = buildLogPath(dir, id)
  mkdirSync(path.dirname(file), { recursive: true })
  writeFileSync(file, backlog)
  const first = new HandLog(file, statSync(file).size)
  live.open(id, first as unknown as BuildLog)
  return { id, file, store, live, first, following: read(followLog({ id, file, live, store, waits: new Waits() })) }
}

t.test('a next attempt that opens while the follower still reads the previous one\'s backlog is followed too', async t => {
  const { id, file, store, live, first, following } = followedByHand(t, '[web] attempt 1 line\n')
  // All before the follower's read of the first attempt's backlog can complete: it ends, the next one starts.
  first.emit('end')
  t.equal(store.requeue(id, { reason: 'builder-connection-lost', error: 'lost' }), 'queued')
  store.start(id)
  const second = new HandLog(file, first.flushed)
  live.open(id, second as unknown as BuildLog)
  await within(new Promise(resolve => second.once('newListener', resolve)), 'the follower to attach to the next attempt')
  second.write('[web] attempt 2 line\n')
  second.emit('end')
  store.finish(id, 'succeeded', null)
  t.equal(await within(following, 'the follower to end with the build'), '[web] attempt 1 line\n[web] attempt 2 line\n')
})

t.test('between attempts a follower waits whether the ended log is still listed or already gone, and ends with the build', async t => {
  const { id, file, store, live, first, following } = followedByHand(t, '')
  await new Promise(resolve => setImmediate(resolve)) // nothing to read before: the follower is live
  first.write('[web] one\n')
  first.emit('end') // still listed: the runner forgets it only after closing
  live.close(id)
  t.equal(store.requeue(id, { reason: 'builder-unreachable', error: 'down' }), 'queued')
  store.start(id)
  const second = new HandLog(file, first.flushed)
  live.open(id, second as unknown as BuildLog)
  second.write('[web] two\n')
  live.close(id)
  second.emit('end') // already gone: the follower waits for the outcome
  store.finish(id, 'failed', 'step failed')
  t.equal(await within(following, 'the follower to end with the build'), '[web] one\n[web] two\n')
  t.equal(live.listenerCount('opened') + store.listenerCount('final'), 0, 'nothing left listening')
})

/** The stream's text once it holds `count` lines (resolves with them). */
function lines (stream: Readable, count: number, onLine?: (line: string, all: string[]) => void): Promise<string[]> {
  return within(new Promise(resolve => {
    const all: string[] = []
    let rest = ''
    stream.on('data', chunk => {
      rest += String(chunk)
      let end
      while ((end = rest.indexOf('\n')) >= 0) {
        all.push(rest.slice(0, end))
        rest = rest.slice(end + 1)
        onLine?.(all.at(-1)!, all)
        if (all.length === count) resolve(all)
      }
    })
  }), `${count} lines of the stream`)
}

const timeouts = (): number => process.getActiveResourcesInfo().filter(kind => kind === 'Timeout').length

t.test('a follower of a queued build says at once why it waits, again when the reason changes, then that it started, before its log', async t => {
  const { dir, store, waits, record, open, follow } = setup(t)
  const { id } = record()
  waits.reason = { kind: 'project', build: 41, project: 'demo' }
  const out = follow(id)
  t.equal(String(out.read()), `[build-hook] build ${id} is queued: waiting for build 41 of demo to finish (one build per project at a time)\n`, 'at once')
  const following = read(out)
  waits.set({ kind: 'project', build: 41, project: 'demo' }) // the same reason: said once
  waits.set({ kind: 'slots', max: 2, builds: [39, 40] })
  waits.set({ kind: 'builder', reason: 'BuildKit is unreachable at tcp://buildkitd:1234', bootstrapped: true })
  store.start(id)
  waits.set({ kind: 'next' }) // running: nothing more to say while the runner opens the log
  const log = open(id)
  log.write('web', 'step 1')
  await log.close()
  store.finish(id, 'succeeded', null)
  t.equal(await following, [
    `[build-hook] build ${id} is queued: waiting for a free builder slot (2 of 2 in use: builds 39, 40)`,
    `[build-hook] build ${id} is queued: waiting for the builder to come back (BuildKit is unreachable at tcp://buildkitd:1234)`,
    `[build-hook] build ${id} started (attempt 1)`,
    '[web] step 1',
    ''
  ].join('\n'))
  t.equal(readFileSync(buildLogPath(dir, id), 'utf8'), '[web] step 1\n', 'the stored log has none of the waiting lines')
  t.equal(waits.listenerCount('waits'), 0, 'nothing left listening')
})

t.test('while it waits, a follower repeats why every stillWaitingMs with how long the build has been queued; a cancel ends it', async t => {
  const { store, record, follow } = setup(t)
  const build = record()
  const out = follow(build.id, { stillWaitingMs: 5, now: () => Date.parse(build.createdAt) + 300_000 })
  const text = await lines(out, 4, (line, all) => { if (all.length === 3) t.ok(store.cancelQueued(build.id, 'cancelled through the API')) })
  t.same(text, [
    `[build-hook] build ${build.id} is queued: waiting for its turn to start (nothing else holds it back)`,
    '[build-hook] still waiting: its turn to start (nothing else holds it back) (5m 0s so far)',
    '[build-hook] still waiting: its turn to start (nothing else holds it back) (5m 0s so far)',
    `[build-hook] build ${build.id} was cancelled before it started`
  ])
  await within(new Promise(resolve => out.once('end', resolve)), 'the stream to end')
})

t.test('a waiting follower that disconnects leaves no listener and no timer behind', async t => {
  const { store, live, waits, record, follow } = setup(t)
  const { id } = record()
  const before = timeouts()
  const out = follow(id, { stillWaitingMs: 60_000 })
  t.equal(timeouts(), before + 1, 'one timer for the repeat')
  waits.set({ kind: 'slots', max: 1, builds: [7] })
  t.equal(timeouts(), before + 1, 'still one after the reason changed')
  out.destroy()
  await new Promise(resolve => out.once('close', resolve))
  t.equal(timeouts(), before)
  t.equal(waits.listenerCount('waits') + live.listenerCount('opened') + live.listenerCount('closing') + store.listenerCount('final'), 0)
})

t.test('a queued build superseded by a newer push ends its stream with a line naming the newer build', async t => {
  const { record, follow } = setup(t)
  const { id } = record()
  const following = read(follow(id))
  const newer = record()
  t.equal(await following, `[build-hook] build ${id} is queued: waiting for its turn to start (nothing else holds it back)\n[build-hook] build ${id} was superseded by build ${newer.id} before it started\n`)
})

t.test('a queued build that fails to start ends its stream with why, when the record says', async t => {
  const { store, record, follow } = setup(t)
  const queued = '[build-hook] build 1 is queued: waiting for its turn to start (nothing else holds it back)\n'
  const { id } = record()
  const following = read(follow(id))
  store.finish(id, 'failed', "project 'demo' is no longer in the configuration")
  t.equal(await following, `${queued}[build-hook] build ${id} failed before it started: project 'demo' is no longer in the configuration\n`)
  const other = store.record(newBuild({ ...project, slug: 'other' }, { source: 'api', event: 'trigger', delivery: null, ref: 'refs/heads/main', commit: 'b'.repeat(40), sender: null })).build
  const silent = read(follow(other.id))
  store.finish(other.id, 'failed', null)
  t.equal(await silent, `[build-hook] build ${other.id} is queued: waiting for its turn to start (nothing else holds it back)\n[build-hook] build ${other.id} failed before it started\n`)
})

t.test('a build queued again after losing BuildKit gets the waiting lines again, timed from its requeue, then its next attempt', async t => {
  const { dir, store, live, waits, record, open, follow } = setup(t)
  const { id } = record()
  store.start(id)
  const first = open(id)
  first.write('web', 'attempt 1 line')
  let now = 0
  const out = follow(id, { stillWaitingMs: 5, now: () => now })
  const text = read(out)
  await first.close()
  live.close(id)
  await eventually(() => store.listenerCount('final') === 1 || undefined, 'the follower to wait for the next attempt')
  waits.reason = { kind: 'builder', reason: 'BuildKit is unreachable at tcp://b:1234', bootstrapped: true }
  t.equal(store.requeue(id, { reason: 'builder-connection-lost', error: 'lost' }), 'queued')
  now = Date.parse(store.get(id)!.retry!.at) + 65_000
  waits.emit('waits') // what the scheduler says once it released the build
  await within(new Promise<void>(resolve => {
    const onData = (chunk: Buffer): void => { if (String(chunk).startsWith('[build-hook] still waiting')) { out.off('data', onData); resolve() } }
    out.on('data', onData)
  }), 'a repeat')
  store.start(id)
  const second = open(id)
  second.write('web', 'attempt 2 line')
  await second.close()
  store.finish(id, 'succeeded', null)
  const body = (await text).split('\n')
  t.same(body.filter(line => !line.startsWith('[build-hook] still waiting')), [
    '[web] attempt 1 line',
    `[build-hook] build ${id} is queued: waiting for the builder to come back (BuildKit is unreachable at tcp://b:1234)`,
    `[build-hook] build ${id} started (attempt 2)`,
    '[web] attempt 2 line',
    ''
  ])
  t.ok(body.includes('[build-hook] still waiting: the builder to come back (BuildKit is unreachable at tcp://b:1234) (1m 5s so far)'))
  t.equal(readFileSync(buildLogPath(dir, id), 'utf8'), '[web] attempt 1 line\n[web] attempt 2 line\n')
})

t.test('a build queued again by a restart, whose record has no requeue time, is timed from when the follower began waiting', async t => {
  const { store, record, follow } = setup(t)
  const { id } = record()
  store.start(id)
  store.recover(3) // the process died during attempt 1
  let now = 1_000
  const out = follow(id, { stillWaitingMs: 5, now: () => now })
  now = 8_000
  const text = await lines(out, 2)
  out.destroy()
  t.same(text, [
    `[build-hook] build ${id} is queued: waiting for its turn to start (nothing else holds it back)`,
    '[build-hook] still waiting: its turn to start (nothing else holds it back) (7s so far)'
  ])
})

t.test('a build superseded while queued again after an attempt ends its stream after that attempt\'s log, naming the attempt', async t => {
  const { store, live, record, open, follow } = setup(t)
  const { id } = record()
  store.start(id)
  const first = open(id)
  first.write('web', 'attempt 1 line')
  const text = read(follow(id))
  await first.close()
  live.close(id)
  await eventually(() => store.listenerCount('final') === 1 || undefined, 'the follower to wait for the next attempt')
  const newer = record()
  t.equal(store.requeue(id, { reason: 'builder-connection-lost', error: 'lost' }), 'superseded')
  t.equal(await text, `[web] attempt 1 line\n[build-hook] build ${id} was superseded by build ${newer.id} before attempt 2 started\n`)
})
