import { EventEmitter } from 'node:events'
import { appendFileSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import type { Readable } from 'node:stream'
import t from 'tap'
import { BuildLog, buildLogPath } from '../../../lib/builds/build-log.js'
import { newBuild } from '../../../lib/builds/new-build.js'
import { LiveLogs } from '../../../lib/builds/live-logs.js'
import { followLog } from '../../../lib/builds/log-follower.js'
import { parseConfig } from '../../../lib/config/index.js'
import { Redactor } from '../../../lib/secrets/redactor.js'
import { BuildStore } from '../../../lib/store/build-store.js'
import { configToml, tempDir, within } from '../../helper.js'

const project = parseConfig(configToml(), 'test.toml').projects[0]!

function read (stream: Readable): Promise<string> {
  return new Promise((resolve, reject) => {
    let text = ''
    stream.on('data', chunk => { text += String(chunk) })
    stream.on('end', () => resolve(text))
    stream.on('error', reject)
  })
}

function setup (t: Parameters<typeof tempDir>[0]) {
  const dir = tempDir(t)
  const store = new BuildStore(dir)
  t.teardown(() => store.close())
  const live = new LiveLogs()
  const record = () => store.record(newBuild(project, { source: 'api', event: 'trigger', delivery: null, ref: 'refs/heads/main', commit: String(Math.random()).slice(2).padEnd(40, '0').slice(0, 40), sender: null })).build
  const open = (id: number) => {
    const log = new BuildLog(buildLogPath(dir, id), new Redactor([]))
    live.open(id, log)
    return log
  }
  return { dir, store, live, record, open }
}

t.test('lines written while the follower reads the start of the file come after it, once, in order; so does the end', async t => {
  const { dir, store, live, record, open } = setup(t)
  const { id } = record()
  const log = open(id)
  for (let i = 0; i < 100; i++) log.write('web', `line ${i}`)
  await within(new Promise(resolve => log.once('chunk', resolve)), 'the first chunk')
  while (log.flushed < readFileSync(log.file).length) await within(new Promise(resolve => log.once('chunk', resolve)), 'the rest of the chunks')
  const following = read(followLog({ id, file: log.file, live, store }))
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
  const following = read(followLog({ id, file: buildLogPath(dir, id), live, store }))
  const otherLog = open(other.id)
  otherLog.write('web', 'not mine')
  await otherLog.close()
  const mine = open(id)
  mine.write('web', 'mine')
  await mine.close()
  store.finish(id, 'succeeded', null)
  t.equal(await following, '[web] mine\n')
  t.equal(live.listenerCount('opened'), 0)
  t.equal(store.listenerCount('final'), 0)
})

t.test('on shutdown, a follower of a running build gets what was written, then a last line saying why, and ends', async t => {
  const { store, live, record, open } = setup(t)
  const { id } = record()
  const log = open(id)
  log.write('web', 'step 1')
  const following = read(followLog({ id, file: log.file, live, store }))
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
  t.equal(await read(followLog({ id, file: log.file, live, store })), `[web] step 1\n[build-hook] build-hook is shutting down: this log ends here; build ${id} is being cancelled (GET /builds/${id} has its outcome)\n`)
  await log.close()
})

t.test('on shutdown, a follower of a queued build learns that it stays queued, before or after shutdown began', async t => {
  const { dir, store, live, record } = setup(t)
  const { id } = record()
  const waiting = read(followLog({ id, file: buildLogPath(dir, id), live, store }))
  live.shutDown({ graceMs: 1000 })
  const line = `[build-hook] build-hook is shutting down: build ${id} stays queued and runs after the next start\n`
  t.equal(await waiting, line)
  t.equal(live.listenerCount('opened') + live.listenerCount('closing') + store.listenerCount('final'), 0, 'nothing left listening')
  t.equal(await read(followLog({ id, file: buildLogPath(dir, id), live, store })), line)
})

t.test('a follower stays with a build queued again after BuildKit went away, through its next attempt, each line once', async t => {
  const { dir, store, live, record, open } = setup(t)
  const { id } = record()
  store.start(id)
  const first = open(id)
  first.write('web', 'attempt 1 line')
  const following = read(followLog({ id, file: buildLogPath(dir, id), live, store }))
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
  return { id, file, store, live, first, following: read(followLog({ id, file, live, store })) }
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
