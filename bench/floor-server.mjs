// The floor: the least a server must do to acknowledge a signed GitHub push safely, and nothing more. No
// framework, no logging, no validation beyond what the answer needs. bench/run.ts measures the hook against it
// in the same run, on the same load, as a ratio.
//   node:http, the raw body, HMAC-SHA256 of it compared in constant time, JSON.parse, one row per delivery in
//   SQLite (WAL, synchronous = NORMAL as the hook's store) under a unique delivery id, the rows of one
//   event-loop turn committed in one transaction, and 202 only once that commit is done (200 for a delivery
//   already recorded, 401 for a bad signature).
// Env: FLOOR_SECRET, FLOOR_DB (the SQLite file). Prints `listening http://127.0.0.1:<port>`.
import { createHmac, timingSafeEqual } from 'node:crypto'
import http from 'node:http'
import Database from 'better-sqlite3'

const secret = process.env.FLOOR_SECRET
const db = new Database(process.env.FLOOR_DB)
db.pragma('journal_mode = WAL')
db.pragma('synchronous = NORMAL')
db.exec('CREATE TABLE deliveries (id INTEGER PRIMARY KEY, delivery TEXT NOT NULL UNIQUE, ref TEXT NOT NULL, sha TEXT NOT NULL, received_at TEXT NOT NULL)')
const insert = db.prepare('INSERT INTO deliveries (delivery, ref, sha, received_at) VALUES (?, ?, ?, ?) ON CONFLICT (delivery) DO NOTHING')

/** The deliveries of this event-loop turn, committed together once the turn's I/O is read. */
let pending = []
const commitAll = db.transaction(batch => batch.map(row => insert.run(row.delivery, row.ref, row.sha, row.receivedAt).changes === 1))

function flush () {
  const batch = pending
  pending = []
  const inserted = commitAll(batch)
  batch.forEach((row, i) => answer(row.res, inserted[i] ? 202 : 200, inserted[i] ? '{"status":"queued"}' : '{"duplicate":true}'))
}

function answer (res, status, body) {
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) })
  res.end(body)
}

function verified (body, header) {
  if (typeof header !== 'string' || !header.startsWith('sha256=')) return false
  const expected = createHmac('sha256', secret).update(body).digest()
  const given = Buffer.from(header.slice(7), 'hex')
  return given.length === expected.length && timingSafeEqual(given, expected)
}

const server = http.createServer((req, res) => {
  const chunks = []
  req.on('data', chunk => chunks.push(chunk))
  req.on('end', () => {
    const body = Buffer.concat(chunks)
    if (!verified(body, req.headers['x-hub-signature-256'])) return answer(res, 401, '{"message":"invalid webhook signature"}')
    let push
    try {
      push = JSON.parse(body.toString('utf8'))
    } catch {
      return answer(res, 400, '{"message":"invalid JSON"}')
    }
    const delivery = req.headers['x-github-delivery']
    if (typeof delivery !== 'string' || typeof push.ref !== 'string' || typeof push.after !== 'string') return answer(res, 400, '{"message":"not a push"}')
    if (pending.length === 0) setImmediate(flush)
    pending.push({ res, delivery, ref: push.ref, sha: push.after, receivedAt: new Date().toISOString() })
  })
})
server.listen(0, '127.0.0.1', () => process.stdout.write(`listening http://127.0.0.1:${server.address().port}\n`))
process.on('SIGTERM', () => server.close(() => { db.close(); process.exit(0) }))
