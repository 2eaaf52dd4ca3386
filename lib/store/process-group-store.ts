import type { Database, Statement } from 'better-sqlite3'
import type { GroupRecords, RecordedGroup } from '../process/process-groups.js'

interface GroupRow {
  pgid: number
  start_time: number
  build_id: number | null
  command: string
  recorded_at: string
}

/** The process_groups table of the build store: committed before the child does anything that matters. */
export class ProcessGroupStore implements GroupRecords {
  readonly #db: Database
  readonly #add: Statement
  readonly #remove: Statement
  readonly #list: Statement

  /** `db`: the build store's database, migrated. */
  constructor (db: Database) {
    this.#db = db
    this.#add = db.prepare('INSERT OR REPLACE INTO process_groups (pgid, start_time, build_id, command, recorded_at) VALUES (?, ?, ?, ?, ?)')
    this.#remove = db.prepare('DELETE FROM process_groups WHERE pgid = ? AND start_time = ?')
    this.#list = db.prepare('SELECT * FROM process_groups ORDER BY recorded_at, pgid')
  }

  add (group: RecordedGroup): void {
    this.#add.run(group.pgid, group.startTime, group.buildId, group.command, group.recordedAt)
  }

  /** Also after the store closed (a child that ends during shutdown): its record is then simply kept. */
  remove (pgid: number, startTime: number): void {
    if (this.#db.open) this.#remove.run(pgid, startTime)
  }

  list (): RecordedGroup[] {
    return (this.#list.all() as GroupRow[]).map(row => ({ pgid: row.pgid, startTime: row.start_time, buildId: row.build_id, command: row.command, recordedAt: row.recorded_at }))
  }
}
