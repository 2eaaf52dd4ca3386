import http from 'node:http'
import path from 'node:path'
import { writeFileSync } from 'node:fs'
import t, { type Test } from 'tap'
import type { BuildRecord } from '../../lib/schemas/build.js'
import { configToml, eventually, finished, harness, TOKENS, tempDir, within, writeConfig } from '../helper.js'

// GET /events: Server-Sent Events of build changes, for the dashboard (docs/contract.md "Dashboard and API description").

const auth = { authorization: `Bearer ${TOKENS[0]}` }
const commit = (c: string): string => c.repeat(40)

interface SseEvent { event: string, data: string }

/** An open event stream: the events parsed so far, the comment lines seen, and whether the server ended it. */
interface Stream {
  events: SseEvent[]
  comments: string[]
  ended: Promise<void>
  close: () => void
}

function subscribe (base: string, headers: http.OutgoingHttpHeaders = auth): Promise<Stream & { status: number, type: string | undefined }> {
  return new Promise((resolve, reject) => {
    const req = http.get(`${base}/events`, { headers: { accept: 'text/event-stream', ...headers } }, res => {
      const events: SseEvent[] = []
      const comments: string[] = []
      let buffer = ''
      res.setEncoding('utf8')
      res.on('data', (chunk: string) => {
        buffer += chunk
        let end: number
        while ((end = buffer.indexOf('\n\n')) >= 0) {
          const block = buffer.slice(0, end)
          buffer = buffer.slice(end + 2)
          const event: SseEvent = { event: 'message', data: '' }
          for (const line of block.split('\n')) {
            if (line.startsWith(':')) comments.push(line)
            else if (line.startsWith('event: ')) event.event = line.slice(7)
            else if (line.startsWith('data: ')) event.data += line.slice(6)
          }
          if (event.data !== '') events.push(event)
        }
      })
      const ended = new Promise<void>(resolve => { res.on('end', resolve); res.on('close', resolve) })
      resolve({ status: res.statusCode!, type: res.headers['content-type'], events, comments, ended, close: () => req.destroy() })
    })
    req.on('error', reject)
  })
}

async function listening (t: Test, options: Parameters<typeof harness>[2] = {}) {
  const h = await harness(t, { CONFIG_PATH: writeConfig(t, configToml()) }, options)
  const base = await h.app.listen({ host: '127.0.0.1', port: 0 })
  return { ...h, base }
}

const builds = (stream: Stream, id: number): BuildRecord[] =>
  stream.events.filter(event => event.event === 'build').map(event => JSON.parse(event.data) as BuildRecord).filter(build => build.id === id)

t.test('a subscriber gets a ready event, then every change of a build\'s record (status, images, deploy) with the whole record, in order', async t => {
  const { app, base } = await listening(t)
  const stream = await subscribe(base)
  t.teardown(stream.close)
  t.equal(stream.status, 200)
  t.match(stream.type, /^text\/event-stream/)
  await eventually(() => stream.events.some(event => event.event === 'ready') ? true : undefined, 'the ready event')
  const res = await app.inject({ method: 'POST', url: '/demo', headers: auth, payload: { commit: commit('a') } })
  const id = res.json().id as number
  const done = await finished(app, id)
  const seen = await eventually(() => {
    const records = builds(stream, id)
    return records.at(-1)?.status === 'succeeded' ? records : undefined
  }, 'the succeeded event')
  t.same(seen.map(build => build.status).filter((status, i, all) => status !== all[i - 1]), ['queued', 'running', 'succeeded'])
  t.ok(seen.some(build => build.status === 'running' && build.images[0]!.status === 'running'), 'an image\'s progress is an event too')
  t.ok(seen.some(build => build.status === 'running' && build.images[0]!.digest !== null), 'and its digest, before the build ends')
  t.same(seen.at(-1), JSON.parse((await app.inject({ url: `/builds/${id}`, headers: auth })).body), 'the record as GET /builds/:id has it')
  t.equal(done.status, 'succeeded')
})

t.test('without a token the stream is refused; a client that refuses event streams gets 406', async t => {
  const { app } = await listening(t)
  const anonymous = await app.inject({ url: '/events', headers: { accept: 'text/event-stream' } })
  t.equal(anonymous.statusCode, 401)
  t.same(Object.keys(anonymous.json()), ['statusCode', 'error', 'message'])
  const json = await app.inject({ url: '/events', headers: { ...auth, accept: 'application/json' } })
  t.equal(json.statusCode, 406)
})

t.test('a few hundred subscribers each get every change, and the store reads each change once', async t => {
  const { app, base, docker } = await listening(t)
  const gate = path.join(tempDir(t), 'gate')
  docker.control({ images: { 'registry.test/demo/web': { waitForFile: gate } } })
  const streams = await Promise.all(Array.from({ length: 300 }, () => subscribe(base)))
  t.teardown(() => { for (const stream of streams) stream.close() })
  await eventually(() => streams.every(stream => stream.events.length > 0) ? true : undefined, 'every ready event')
  t.equal(app.buildEvents.size, 300)
  let reads = 0
  const get = app.store.get.bind(app.store)
  app.store.get = (id: number) => { reads++; return get(id) }
  const res = await app.inject({ method: 'POST', url: '/demo', headers: auth, payload: { commit: commit('b') } })
  const id = res.json().id as number
  await eventually(() => streams.every(stream => builds(stream, id).some(build => build.status === 'running')) ? true : undefined, 'every subscriber to see it running', 60_000)
  const readsForTwoChanges = reads
  writeFileSync(gate, '')
  await finished(app, id)
  await eventually(() => streams.every(stream => builds(stream, id).some(build => build.status === 'succeeded')) ? true : undefined, 'every subscriber to see it succeed', 60_000)
  t.ok(readsForTwoChanges < 20, `the store was read ${readsForTwoChanges} times for two changes and 300 subscribers`)
  for (const stream of streams) stream.close()
  await eventually(() => app.buildEvents.size === 0 ? true : undefined, 'every subscriber to be gone')
})

t.test('an idle stream gets heartbeats; shutting down ends every stream, and the server closes', async t => {
  const { app, base } = await listening(t, { events: { heartbeatMs: 50 } })
  const stream = await subscribe(base)
  t.teardown(stream.close)
  await eventually(() => stream.comments.length > 0 ? true : undefined, 'a heartbeat')
  t.equal(stream.comments[0], ': heartbeat')
  await within(app.close(), 'the server to close with a stream open')
  await within(stream.ended, 'the stream to end')
  t.equal(app.buildEvents.size, 0)
})
