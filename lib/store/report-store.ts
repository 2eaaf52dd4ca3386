import { randomUUID } from 'node:crypto'
import type { Database, Statement } from 'better-sqlite3'
import type { BuildStatus, Report, ReportKind, ReportStatus } from '../schemas/build.js'

/** An HTTP request as it is kept until sent: everything but the secrets (token, signature), added when sending. */
export interface StoredRequest {
  method: 'POST'
  url: string
  headers: Readonly<Record<string, string>>
  body: string
}

/** A commit status or notification to send about a build's new status. */
export interface NewReport {
  /** Which of the project's targets: `status`, or `notify:<index>` ([[projects.notify]] entry). */
  target: string
  kind: ReportKind
  /** What the build record shows as its target (never a URL's path or query: a chat webhook's token lives there). */
  label: string
  /** Reports of one stream are sent one at a time, oldest first. */
  stream: string
  event: BuildStatus
  commit: string | null
  /** The host's state, for a commit status. */
  state: string | null
  request: StoredRequest
  /** Replaces the stream's older reports not sent yet (a commit status: only the newest state matters). */
  replaces: boolean
}

/** A report whose turn it is. */
export interface DueReport {
  id: number
  buildId: number
  project: string
  target: string
  kind: ReportKind
  label: string
  stream: string
  event: BuildStatus
  /** Attempts made before this one. */
  attempts: number
  createdAt: string
  /** The same on every attempt, so that a receiver can tell a retry from a new event. */
  delivery: string
  request: StoredRequest
}

export interface Attempt {
  responseStatus: number | null
  error: string | null
}

interface ReportRow {
  id: number
  build_id: number
  project: string
  target: string
  kind: ReportKind
  label: string
  stream: string
  event: BuildStatus
  commit_sha: string | null
  state: string | null
  request: string | null
  delivery: string
  status: ReportStatus
  attempts: number
  created_at: string
  next_at: string
  last_at: string | null
  response_status: number | null
  error: string | null
}

// The oldest report not sent of each stream that is not being sent now.
const HEADS = `
  FROM reports AS r JOIN builds AS b ON b.id = r.build_id
  WHERE r.status = 'pending' AND r.id = (SELECT min(id) FROM reports AS e WHERE e.stream = r.stream AND e.status = 'pending')
    AND r.stream NOT IN (SELECT value FROM json_each(@busy))
`

/**
 * The reports table of the build store (the outbox): commit statuses and notifications from the moment a
 * build changed until they are delivered or given up on. Rows go with their build (retention).
 */
export class ReportStore {
  readonly #insert: Statement
  readonly #replace: Statement
  readonly #waiting: Statement
  readonly #dueNow: Statement
  readonly #due: Statement
  readonly #nextDue: Statement
  readonly #end: Statement
  readonly #retry: Statement
  readonly #delayStream: Statement
  readonly #forBuild: Statement
  readonly #pending: Statement

  /** `db`: the build store's database, migrated. */
  constructor (db: Database) {
    this.#insert = db.prepare(`
      INSERT INTO reports (build_id, target, kind, label, stream, event, commit_sha, state, request, delivery, status, created_at, next_at)
      VALUES (@buildId, @target, @kind, @label, @stream, @event, @commit, @state, @request, @delivery, 'pending', @now, @nextAt)
    `)
    this.#waiting = db.prepare(`SELECT max(next_at) AS at FROM reports WHERE stream = ? AND status = 'pending'`)
    this.#replace = db.prepare(`UPDATE reports SET status = 'skipped', request = NULL WHERE stream = ? AND status = 'pending'`)
    this.#dueNow = db.prepare(`UPDATE reports SET next_at = ? WHERE status = 'pending' AND next_at > ?`)
    this.#due = db.prepare(`SELECT r.*, b.project ${HEADS} AND r.next_at <= @now ORDER BY r.next_at, r.id LIMIT @limit`)
    this.#nextDue = db.prepare(`SELECT min(r.next_at) AS at ${HEADS}`)
    this.#end = db.prepare(`
      UPDATE reports SET status = @status, attempts = attempts + 1, last_at = @now, response_status = @responseStatus, error = @error, request = NULL
      WHERE id = @id
    `)
    this.#retry = db.prepare(`
      UPDATE reports SET attempts = attempts + 1, last_at = @now, next_at = @nextAt, response_status = @responseStatus, error = @error
      WHERE id = @id AND status = 'pending'
    `)
    // A stream waits for its retry: a newer report that replaced the one retried goes no earlier (Retry-After).
    this.#delayStream = db.prepare(`
      UPDATE reports SET next_at = @nextAt WHERE stream = (SELECT stream FROM reports WHERE id = @id) AND status = 'pending' AND id > @id AND next_at < @nextAt
    `)
    this.#forBuild = db.prepare(`
      SELECT * FROM reports WHERE id IN (SELECT max(id) FROM reports WHERE build_id = ? GROUP BY target, commit_sha) ORDER BY id
    `)
    this.#pending = db.prepare(`SELECT b.project, r.kind, count(*) AS n FROM reports AS r JOIN builds AS b ON b.id = r.build_id WHERE r.status = 'pending' GROUP BY b.project, r.kind`)
  }

  /** Adds a build's reports; call it in the transaction that changed the build. */
  enqueue (buildId: number, reports: readonly NewReport[], now: Date): void {
    for (const report of reports) {
      // What it replaces may be waiting for a retry (a Retry-After): the stream still waits that long.
      let waiting: string | null = null
      if (report.replaces) {
        waiting = (this.#waiting.get(report.stream) as { at: string | null }).at
        this.#replace.run(report.stream)
      }
      this.#insert.run({
        buildId,
        target: report.target,
        kind: report.kind,
        label: report.label,
        stream: report.stream,
        event: report.event,
        commit: report.commit,
        state: report.state,
        request: JSON.stringify(report.request),
        delivery: randomUUID(),
        now: now.toISOString(),
        nextAt: waiting !== null && waiting > now.toISOString() ? waiting : now.toISOString()
      })
    }
  }

  /** Up to `limit` reports due by `now`, the oldest of each stream not in `busy`. */
  due (now: Date, busy: readonly string[], limit: number): DueReport[] {
    const rows = this.#due.all({ now: now.toISOString(), busy: JSON.stringify(busy), limit }) as ReportRow[]
    return rows.map(row => ({
      id: row.id,
      buildId: row.build_id,
      project: row.project,
      target: row.target,
      kind: row.kind,
      label: row.label,
      stream: row.stream,
      event: row.event,
      attempts: row.attempts,
      createdAt: row.created_at,
      delivery: row.delivery,
      request: JSON.parse(row.request!) as StoredRequest
    }))
  }

  /** Makes every report waiting for a retry due now: after a start, what a previous process had not sent goes at once. */
  dueNow (now = new Date()): void {
    this.#dueNow.run(now.toISOString(), now.toISOString())
  }

  /** When the next report of a stream not in `busy` is due; null when none is waiting. */
  nextDueAt (busy: readonly string[]): Date | null {
    const row = this.#nextDue.get({ busy: JSON.stringify(busy) }) as { at: string | null }
    return row.at === null ? null : new Date(row.at)
  }

  delivered (id: number, attempt: Attempt, now = new Date()): void {
    this.#end.run({ id, status: 'delivered', now: now.toISOString(), ...attempt })
  }

  /** Given up on: refused, or still undelivered when its time ran out. */
  failed (id: number, attempt: Attempt, now = new Date()): void {
    this.#end.run({ id, status: 'failed', now: now.toISOString(), ...attempt })
  }

  /** Tried again at `nextAt` (unless a newer state replaced it meanwhile: then that one waits until then). */
  retry (id: number, attempt: Attempt, nextAt: Date, now = new Date()): void {
    this.#retry.run({ id, now: now.toISOString(), nextAt: nextAt.toISOString(), ...attempt })
    this.#delayStream.run({ id, nextAt: nextAt.toISOString() })
  }

  /** The build's last report to each target (and commit), for its record. */
  forBuild (buildId: number): Report[] {
    return (this.#forBuild.all(buildId) as ReportRow[]).map(row => ({
      kind: row.kind,
      target: row.label,
      event: row.event,
      commit: row.commit_sha,
      state: row.state,
      status: row.status,
      attempts: row.attempts,
      responseStatus: row.response_status,
      error: row.error,
      attemptedAt: row.last_at,
      nextAttemptAt: row.status === 'pending' ? row.next_at : null
    }))
  }

  /** How many reports wait to be sent, by project and kind. */
  pending (): Array<{ project: string, kind: ReportKind, n: number }> {
    return this.#pending.all() as Array<{ project: string, kind: ReportKind, n: number }>
  }
}
