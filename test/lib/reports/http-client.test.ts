import { once } from 'node:events'
import http from 'node:http'
import type { AddressInfo } from 'node:net'
import t from 'tap'
import { HttpClient } from '../../../lib/reports/http-client.js'

const REQUEST = { method: 'POST' as const, url: '', headers: { 'Content-Type': 'application/json' }, body: '{"a":1}' }

t.test('an answer is read whole up to 64 KiB, with its status and headers, and the body sent as given', async t => {
  let received = ''
  const server = http.createServer((req, res) => {
    req.on('data', chunk => { received += String(chunk) })
    req.on('end', () => res.writeHead(500, { 'retry-after': '3' }).end('x'.repeat(100 * 1024)))
  })
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  const client = new HttpClient()
  t.teardown(() => { client.close(); server.closeAllConnections(); server.close() })
  const answer = await client.send({ ...REQUEST, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/x` }, { Authorization: 'token t' }, { timeoutMs: 5_000, signal: new AbortController().signal })
  t.equal(answer.statusCode, 500)
  t.equal(answer.headers['retry-after'], '3')
  t.equal(answer.body.length, 64 * 1024)
  t.equal(received, '{"a":1}')
})

t.test('an https URL is sent over TLS: a refused connection is an error to retry', async t => {
  const server = http.createServer()
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  const { port } = server.address() as AddressInfo
  await new Promise(resolve => server.close(resolve))
  const client = new HttpClient()
  t.teardown(() => client.close())
  await t.rejects(client.send({ ...REQUEST, url: `https://127.0.0.1:${port}/x` }, {}, { timeoutMs: 5_000, signal: new AbortController().signal }), { code: 'ECONNREFUSED' })
})

t.test('a receiver that trickles its answer is cut off when the whole exchange takes too long', async t => {
  const server = http.createServer((_req, res) => {
    res.writeHead(200)
    const drip = setInterval(() => res.write('.'), 20)
    res.on('close', () => clearInterval(drip))
  })
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  const client = new HttpClient()
  t.teardown(() => { client.close(); server.closeAllConnections(); server.close() })
  await t.rejects(client.send({ ...REQUEST, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/x` }, {}, { timeoutMs: 300, signal: new AbortController().signal }), { message: 'no whole answer within 0.3 s' })
})
