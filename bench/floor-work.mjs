// The work every floor server does (bench/floor-server.mjs, bench/fastify-floor-server.mjs), and nothing more:
// HMAC-SHA256 of the raw body compared in constant time, and one row per delivery in SQLite (WAL,
// synchronous = NORMAL as the hook's store) under a unique delivery id, the rows of one event-loop turn
// committed in one transaction, each delivery answered only once that commit is done.
import { createHmac, timingSafeEqual } from 'node:crypto'
import Database from 'better-sqlite3'

/** Whether `header` (X-Hub-Signature-256) is the HMAC-SHA256 of `body` under `secret`. */
export function verified (body, header, secret) {
  if (typeof header !== 'string' || !header.startsWith('sha256=')) return false
  const expected = createHmac('sha256', secret).update(body).digest()
  const given = Buffer.from(header.slice(7), 'hex')
  return given.length === expected.length && timingSafeEqual(given, expected)
}

/** The deliveries table in `file`; record() resolves true for a new delivery, false for one seen before. */
export function openDeliveries (file) {
  const db = new Database(file)
  db.pragma('journal_mode = WAL')
  db.pragma('synchronous = NORMAL')
  db.exec('CREATE TABLE deliveries (id INTEGER PRIMARY KEY, delivery TEXT NOT NULL UNIQUE, ref TEXT NOT NULL, sha TEXT NOT NULL, received_at TEXT NOT NULL)')
  const insert = db.prepare('INSERT INTO deliveries (delivery, ref, sha, received_at) VALUES (?, ?, ?, ?) ON CONFLICT (delivery) DO NOTHING')
  const commitAll = db.transaction(batch => batch.map(row => insert.run(row.delivery, row.ref, row.sha, row.receivedAt).changes === 1))
  let pending = []
  const flush = () => {
    const batch = pending
    pending = []
    const inserted = commitAll(batch)
    batch.forEach((row, i) => row.done(inserted[i]))
  }
  return {
    record: (delivery, ref, sha, done) => {
      if (pending.length === 0) setImmediate(flush)
      pending.push({ delivery, ref, sha, receivedAt: new Date().toISOString(), done })
    },
    close: () => db.close()
  }
}
