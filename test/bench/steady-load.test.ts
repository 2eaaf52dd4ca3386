import http from 'node:http'
import type { AddressInfo } from 'node:net'
import t, { type Test } from 'tap'
import { steadyLoad } from '../../bench/steady-load.js'
import { closedEndpoint } from '../fixtures/docker.js'

/** A server on 127.0.0.1 that answers each request as `answer` says, recording when each arrived and its body. */
async function server (t: Test, answer: (req: http.IncomingMessage, res: http.ServerResponse, index: number) => void): Promise<{ url: string, arrivals: number[], bodies: string[] }> {
  const arrivals: number[] = []
  const bodies: string[] = []
  const listener = http.createServer((req, res) => {
    const index = arrivals.push(performance.now()) - 1
    let body = ''
    req.on('data', chunk => { body += String(chunk) })
    req.on('end', () => { bodies.push(body); answer(req, res, index) })
  })
  await new Promise<void>(resolve => listener.listen(0, '127.0.0.1', resolve))
  t.teardown(() => new Promise<void>(resolve => { listener.closeAllConnections(); listener.close(() => resolve()) }))
  return { url: `http://127.0.0.1:${(listener.address() as AddressInfo).port}/hooked`, arrivals, bodies }
}

t.test('requests arrive evenly spaced at the rate, not a second\'s share at once, and every answer is counted', async t => {
  const { url, arrivals, bodies } = await server(t, (_req, res, index) => { res.writeHead(index % 10 === 0 ? 500 : 202).end() })
  let made = 0
  const result = await steadyLoad({ url, rate: 200, seconds: 1, request: () => ({ method: 'POST', headers: { 'content-type': 'text/plain' }, body: `push ${made++}` }) })
  t.equal(arrivals.length, 200)
  t.same([...bodies].sort(), Array.from({ length: 200 }, (_, i) => `push ${i}`).sort(), 'each body made for its request')
  t.match(result, { errors: 0, non2xx: 20, accepted: 180 })
  // At 200/s one is due every 5 ms: no 100 ms window holds half of them after a short stall (autocannon's overallRate sent all 200 in the first).
  const busiest = Math.max(...arrivals.map(start => arrivals.filter(at => at >= start && at < start + 100).length))
  t.ok(busiest <= 100, `at most half of them in any 100 ms: ${busiest}`)
  t.ok(arrivals.at(-1)! - arrivals[0]! >= 500, `spread over the second (none is sent before it is due): ${Math.round(arrivals.at(-1)! - arrivals[0]!)} ms`)
  t.ok(result.rps > 50 && result.rps <= 210, `about the rate: ${result.rps}`)
  t.ok(result.p50 <= result.p99 && result.p99 <= result.max)
})

t.test('a request that waits for a free connection counts its wait: latency runs from when it was due', async t => {
  // One connection, an answer after 30 ms, a request due every 10 ms: each waits longer than the one before.
  const { url } = await server(t, (_req, res) => { setTimeout(() => res.writeHead(202).end(), 30) })
  const result = await steadyLoad({ url, rate: 100, seconds: 0.3, connections: 1, request: () => ({ method: 'POST', headers: {}, body: '' }) })
  t.equal(result.accepted, 30)
  t.ok(result.max >= 500, `the last one waited for the 29 before it: ${result.max} ms`)
  t.ok(result.p50 >= 200, `as did the middle one: ${result.p50} ms`)
})

t.test('requests that cannot connect, answers cut short and requests never answered are errors, with no latency to report', async t => {
  const closed = (await closedEndpoint()).replace('tcp:', 'http:') + '/hooked'
  const refused = await steadyLoad({ url: closed, rate: 100, seconds: 0.1, request: () => ({ method: 'POST', headers: {}, body: 'x' }) })
  t.same(refused, { rps: 0, p50: 0, p99: 0, max: 0, errors: 10, non2xx: 0, accepted: 0 })
  const { url: cutShort } = await server(t, (_req, res) => {
    res.writeHead(202, { 'content-length': '100' })
    res.write('part of it')
    res.socket!.destroy()
  })
  t.match(await steadyLoad({ url: cutShort, rate: 100, seconds: 0.05, request: () => ({ method: 'POST', headers: {}, body: 'x' }) }), { errors: 5, accepted: 0 })
  const { url: silent } = await server(t, () => {})
  t.match(await steadyLoad({ url: silent, rate: 100, seconds: 0.05, timeoutMs: 100, request: () => ({ method: 'POST', headers: {}, body: 'x' }) }), { errors: 5, accepted: 0 })
})
