import type { Database, Statement } from 'better-sqlite3'
import type { Source } from '../schemas/build.js'

/**
 * The Git hosts' delivery ids already seen (the deliveries table), each with the build it recorded or
 * duplicated: a delivery sent again (a host's redelivery, a retry after a timeout) gets that build back.
 */
export class Deliveries {
  readonly #seen: Statement
  readonly #remember: Statement

  constructor (db: Database) {
    this.#seen = db.prepare('SELECT build_id AS id FROM deliveries WHERE source = ? AND delivery = ?')
    this.#remember = db.prepare('INSERT OR IGNORE INTO deliveries (source, delivery, build_id, received_at) VALUES (?, ?, ?, ?)')
  }

  /** The build that delivery `delivery` of `source` recorded or duplicated, if it was seen. */
  buildOf (source: Source, delivery: string): number | undefined {
    return (this.#seen.get(source, delivery) as { id: number } | undefined)?.id
  }

  /** Remembers the delivery with its build (in the caller's transaction); a delivery already seen keeps its first build. */
  remember (source: Source, delivery: string, buildId: number, at: Date): void {
    this.#remember.run(source, delivery, buildId, at.toISOString())
  }
}
