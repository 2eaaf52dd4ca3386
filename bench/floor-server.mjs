// The floor: the least a server must do to acknowledge a signed GitHub push safely, and nothing more. No
// framework, no logging, no validation beyond what the answer needs. bench/run.ts measures the hook against it
// in the same run, on the same load, as a ratio.
//   node:http, the raw body, HMAC-SHA256 of it compared in constant time, JSON.parse, one row per delivery in
//   SQLite (WAL, synchronous = NORMAL as the hook's store) under a unique delivery id, the rows of one
//   event-loop turn committed in one transaction, and 202 only once that commit is done (200 for a delivery
//   already recorded, 401 for a bad signature). bench/floor-work.mjs.
// Env: FLOOR_SECRET, FLOOR_DB (the SQLite file). Prints `listening http://127.0.0.1:<port>`.
import http from 'node:http'
import { openDeliveries, verified } from './floor-work.mjs'

const secret = process.env.FLOOR_SECRET
const deliveries = openDeliveries(process.env.FLOOR_DB)

function answer (res, status, body) {
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) })
  res.end(body)
}

const server = http.createServer((req, res) => {
  const chunks = []
  req.on('data', chunk => chunks.push(chunk))
  req.on('end', () => {
    const body = Buffer.concat(chunks)
    if (!verified(body, req.headers['x-hub-signature-256'], secret)) return answer(res, 401, '{"message":"invalid webhook signature"}')
    let push
    try {
      push = JSON.parse(body.toString('utf8'))
    } catch {
      return answer(res, 400, '{"message":"invalid JSON"}')
    }
    const delivery = req.headers['x-github-delivery']
    if (typeof delivery !== 'string' || typeof push.ref !== 'string' || typeof push.after !== 'string') return answer(res, 400, '{"message":"not a push"}')
    deliveries.record(delivery, push.ref, push.after, inserted => answer(res, inserted ? 202 : 200, inserted ? '{"status":"queued"}' : '{"duplicate":true}'))
  })
})
server.listen(0, '127.0.0.1', () => process.stdout.write(`listening http://127.0.0.1:${server.address().port}\n`))
process.on('SIGTERM', () => server.close(() => { deliveries.close(); process.exit(0) }))
