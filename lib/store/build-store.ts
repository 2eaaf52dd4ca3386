import { EventEmitter } from 'node:events'
import { mkdirSync } from 'node:fs'
import path from 'node:path'
import Database, { type Database as Db, type Statement } from 'better-sqlite3'
import { BuildHookError } from '../errors.js'
import { FINAL_STATUSES, type BuildRecord, type BuildStatus, type Deployed, type DeployState, type ImageResult, type Retry, type Trigger } from '../schemas/build.js'
import { DEPLOYS_KEPT_FOR_ROLLBACK, DeployHistory } from './deploy-history.js'
import { migrate } from './migrations.js'
import { toRecord, type BuildRow, type ImageRow } from './build-rows.js'
import { Deliveries } from './deliveries.js'
import { ProcessGroupStore } from './process-group-store.js'
import { ReportStore, type NewReport } from './report-store.js'

export const DATABASE_FILE = 'build-hook.sqlite'

export interface NewBuild {
  project: string
  trigger: Trigger
  /** With a digest for a rollback: the image pushed before, deployed again. */
  images: ReadonlyArray<Pick<ImageResult, 'image' | 'tags'> & { digest?: string }>
  deploy: Pick<DeployState, 'status' | 'namespace' | 'resources'>
  attempt?: number
  /** A rollback: the build whose images it deploys again. */
  rollbackOf?: number
}

// Images go back to pending when a build runs again; a rollback's digests are what it deploys, so they stay.
const KEEP_ROLLBACK_DIGEST = 'CASE WHEN (SELECT rollback_of FROM builds WHERE builds.id = build_images.build_id) IS NULL THEN NULL ELSE digest END'

/** A queued or running build, as recording a trigger compares and supersedes it (`commit_sha`: the commit it builds). */
interface ActiveBuild {
  id: number
  status: 'queued' | 'running'
  commit_sha: string
  source: string
}

/** What recording a trigger did: a new build, or the existing one it duplicates. */
export interface Recorded {
  build: BuildRecord
  duplicate: boolean
  /** Queued builds of the project that the new build replaced. */
  superseded: number[]
}

export interface Recovery {
  /** Builds a dead process left running, queued again with attempt + 1. */
  requeued: number[]
  /** Builds a dead process left running on their last attempt: failed. */
  failed: number[]
  /** Queued builds replaced by a newer queued build of their project. */
  superseded: number[]
}

/** A build changed status (`change`), or reached a final one (`final`: succeeded, failed, cancelled or superseded). */
export interface FinalEvent {
  id: number
  project: string
  status: BuildStatus
}
export type ChangeEvent = FinalEvent

/** A build's record changed without a change of status (an image's progress, the deploy step). */
export interface UpdateEvent {
  id: number
}

/** What else a build change means for the commits a build showed states on. */
export interface PlanContext {
  /** Starting: the commit an earlier attempt built (and showed states on), when this one builds another. */
  previousCommit: string | null
  /**
   * Superseded or cancelled: another build of the project on the same commit that is running, or finished
   * after this one was queued: that commit's state is that build's, not "not built".
   */
  commitOwner: BuildRecord | null
}

/** Decides the commit statuses and notifications of a build's new status, written in the same transaction. */
export interface ReportPlanner {
  /** Whether a project's builds report anything: its builds are read only then. */
  reports: (project: string) => boolean
  plan: (build: BuildRecord, context: PlanContext) => readonly NewReport[]
}

export interface ListQuery {
  project?: string
  status?: BuildStatus
  /** Only builds with a smaller id (the next page). */
  before?: number
  limit: number
}

/** What a starting build builds, when it is not the commit it was triggered for (or why the head is unknown). */
export interface StartCommit {
  commit: string
  reason: string | null
  /** Each image's tags for that commit, by position. */
  tags: ReadonlyArray<readonly string[]>
}

export type ImagePatch = Pick<ImageResult, 'status'> & Partial<Pick<ImageResult, 'digest' | 'durationMs' | 'error' | 'reason'>>

export type DeployPatch = Pick<DeployState, 'status' | 'error'> & Partial<Pick<DeployState, 'strategy' | 'reason'>>

/**
 * Builds in SQLite (WAL) under DATA_DIR. Every write is committed before the call returns, so what a
 * caller was told is recorded survives a crash right after.
 */
export class BuildStore extends EventEmitter<{ final: [FinalEvent], change: [ChangeEvent], updated: [UpdateEvent] }> {
  readonly #db: Db
  readonly file: string
  readonly #statements = new Map<string, Statement>()
  /** What each project's workloads were set to run, build after build. */
  readonly deploys: DeployHistory
  /** Commit statuses and notifications until they are sent. */
  readonly reports: ReportStore
  /** The Git hosts' delivery ids already seen, with their builds (read and written only in recordAll). */
  readonly #deliveries: Deliveries
  /** The docker children's process groups while they run (lib/process/process-groups.ts). */
  readonly processGroups: ProcessGroupStore
  /** Set once by the reports plugin, before any build changes: which reports each change sends. */
  reportPlanner: ReportPlanner | null = null

  constructor (dataDir: string) {
    super()
    this.setMaxListeners(0) // metrics, and one per follower waiting for a queued build
    const dir = path.resolve(dataDir)
    this.file = path.join(dir, DATABASE_FILE)
    try {
      mkdirSync(dir, { recursive: true })
      this.#db = new Database(this.file)
      this.#db.pragma('journal_mode = WAL')
    } catch (err) {
      throw new BuildHookError('BH_STORE_UNAVAILABLE', `Cannot open the build store ${this.file}: ${(err as Error).message} (DATA_DIR must be a writable directory)`, { cause: err })
    }
    this.#db.pragma('foreign_keys = ON')
    this.#db.pragma('synchronous = NORMAL') // with WAL: durable across process crashes, fast
    this.#db.pragma('busy_timeout = 5000')
    migrate(this.#db)
    this.deploys = new DeployHistory(this.#db)
    this.reports = new ReportStore(this.#db)
    this.#deliveries = new Deliveries(this.#db)
    this.processGroups = new ProcessGroupStore(this.#db)
  }

  /** A prepared statement, compiled once per store (preparing costs more than running one). */
  #sql (sql: string): Statement {
    let statement = this.#statements.get(sql)
    if (statement === undefined) {
      statement = this.#db.prepare(sql)
      this.#statements.set(sql, statement)
    }
    return statement
  }

  /**
   * Records a trigger in one transaction: a delivery id already seen, or a commit that the project's newest
   * queued or running build already has, returns that build (`duplicate`); otherwise the new build is queued
   * and every queued build of the project is superseded by it (newest push wins).
   */
  record (build: NewBuild, now = new Date()): Recorded {
    return this.recordAll([build], now)[0]!
  }

  /**
   * Records several triggers in one transaction (one commit for all: group commit), each exactly as
   * `record` would, in order.
   */
  recordAll (builds: readonly NewBuild[], now = new Date()): Recorded[] {
    const all = this.#db.transaction(() => {
      // Each project's queued and running builds: read once per transaction, then kept as each trigger changes them.
      const actives = new Map<string, ActiveBuild[]>()
      return builds.map(build => this.#record(build, now, actives))
    })()
    this.#announce(all.flatMap(recorded => recorded.duplicate
      ? []
      : [{ id: recorded.build.id, project: recorded.build.project, status: 'queued' as const },
          ...recorded.superseded.map(id => ({ id, project: recorded.build.project, status: 'superseded' as const }))]))
    return all
  }

  #record (build: NewBuild, now: Date, actives: Map<string, ActiveBuild[]>): Recorded {
    const { source, delivery, commit } = build.trigger
    const seen = delivery === null ? undefined : this.#deliveries.buildOf(source, delivery)
    if (seen !== undefined) return this.#duplicate(build, seen, now)
    let active = actives.get(build.project)
    if (active === undefined) actives.set(build.project, active = this.#activeBuilds(build.project))
    // Only the newest queued or running build counts: a push back to what an older build has (a
    // force-push back, a revert to what is running while something newer is queued) must build.
    // A running build counts with the commit it builds (the head, when that moved after its push).
    // A rollback is never a duplicate, nor the build a push duplicates: it deploys old images, it builds nothing.
    const newest = active[0]
    if (source !== 'rollback' && newest !== undefined && newest.commit_sha === commit && newest.source !== 'rollback') return this.#duplicate(build, newest.id, now)
    const created = this.#insert(build, now)
    const at = now.toISOString()
    const superseded = active.filter(row => row.status === 'queued').map(row => row.id).reverse()
    const supersede = this.#sql(`UPDATE builds SET status = 'superseded', superseded_by = ?, finished_at = ? WHERE id = ?`)
    for (const id of superseded) supersede.run(created.id, at, id)
    // What #activeBuilds would now return: the new build, newest, then the running ones.
    actives.set(build.project, [{ id: created.id, status: 'queued', commit_sha: commit, source }, ...active.filter(row => row.status === 'running')])
    this.#rememberDelivery(build, created.id, now)
    this.#report(created, now)
    for (const id of superseded) this.#changed(id, build.project, now)
    return { build: created, duplicate: false, superseded }
  }

  /**
   * The project's queued and running builds, newest first, through the index that holds only those (a handful,
   * however long the history): the newest of them for the duplicate check, the queued ones to supersede.
   */
  #activeBuilds (project: string): ActiveBuild[] {
    return this.#sql(`
      SELECT id, status, coalesce(built_commit, commit_sha) AS commit_sha, source
      FROM builds INDEXED BY builds_active_commits WHERE project = ? AND status IN ('queued', 'running') ORDER BY id DESC
    `).all(project) as ActiveBuild[]
  }

  /** A trigger that names a delivery already seen, or the commit the project's newest active build has. */
  #duplicate (build: NewBuild, id: number, now: Date): Recorded {
    this.#rememberDelivery(build, id, now)
    return { build: this.get(id)!, duplicate: true, superseded: [] }
  }

  /** In the transaction of a change: the reports its new status sends, if the project has any. */
  #changed (id: number, project: string, now: Date, previousCommit: string | null = null): void {
    if (this.reportPlanner?.reports(project) === true) this.#report(this.get(id)!, now, previousCommit)
  }

  #report (build: BuildRecord, now: Date, previousCommit: string | null = null): void {
    if (this.reportPlanner?.reports(build.project) !== true) return
    const ended = build.status === 'superseded' || build.status === 'cancelled'
    const commitOwner = ended ? this.#commitOwner(build) : null
    this.reports.enqueue(build.id, this.reportPlanner.plan(build, { previousCommit, commitOwner }), now)
  }

  #commitOwner (build: BuildRecord): BuildRecord | null {
    const row = this.#sql(`
      SELECT id FROM builds
      WHERE project = @project AND id <> @id AND rollback_of IS NULL AND coalesce(built_commit, commit_sha) = @commit
        AND (status = 'running' OR (status IN ('succeeded', 'failed') AND finished_at >= @createdAt))
      ORDER BY id DESC LIMIT 1
    `).get({ project: build.project, id: build.id, commit: build.commit ?? build.trigger.commit, createdAt: build.createdAt }) as { id: number } | undefined
    return row === undefined ? null : this.get(row.id)
  }

  /** After the transaction committed: every change, and the final statuses among them. */
  #announce (events: readonly ChangeEvent[]): void {
    for (const event of events) {
      this.emit('change', event)
      if (FINAL_STATUSES.has(event.status)) this.emit('final', event)
    }
  }

  #rememberDelivery (build: NewBuild, id: number, now: Date): void {
    if (build.trigger.delivery !== null) this.#deliveries.remember(build.trigger.source, build.trigger.delivery, id, now)
  }

  /** Inserts a queued build and its images; the record is made from what was written, not read back. */
  #insert (build: NewBuild, now: Date): BuildRecord {
    const createdAt = now.toISOString()
    const attempt = build.attempt ?? 1
    const { lastInsertRowid } = this.#sql(`
      INSERT INTO builds (project, status, source, event, delivery, ref, commit_sha, sender, created_at, attempt,
                          deploy_status, deploy_namespace, deploy_resources, rollback_of)
      VALUES (?, 'queued', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
    `).run(build.project, build.trigger.source, build.trigger.event, build.trigger.delivery, build.trigger.ref,
      build.trigger.commit, build.trigger.sender, createdAt, attempt,
      build.deploy.status, build.deploy.namespace, JSON.stringify(build.deploy.resources), build.rollbackOf ?? null)
    const id = Number(lastInsertRowid)
    const image = this.#sql(`INSERT INTO build_images (build_id, position, image, tags, status, digest) VALUES (?, ?, ?, ?, 'pending', ?)`)
    build.images.forEach((entry, position) => image.run(id, position, entry.image, JSON.stringify(entry.tags), entry.digest ?? null))
    return {
      id,
      project: build.project,
      status: 'queued',
      trigger: { ...build.trigger },
      commit: null,
      commitReason: null,
      createdAt,
      startedAt: null,
      finishedAt: null,
      images: build.images.map(entry => ({ image: entry.image, tags: [...entry.tags], status: 'pending', digest: entry.digest ?? null, durationMs: null, error: null, reason: null })),
      deploy: { ...build.deploy, resources: [...build.deploy.resources], error: null, strategy: null, reason: null, deployedAt: null },
      error: null,
      attempt,
      supersededBy: null,
      rollbackOf: build.rollbackOf ?? null,
      retry: null,
      reports: []
    }
  }

  get (id: number): BuildRecord | null {
    const row = this.#sql('SELECT * FROM builds WHERE id = ?').get(id) as BuildRow | undefined
    if (row === undefined) return null
    const images = this.#sql('SELECT * FROM build_images WHERE build_id = ? ORDER BY position').all(id) as ImageRow[]
    return { ...toRecord(row, images), reports: this.reports.forBuild(id) }
  }

  /** The oldest queued build (or rollback) of a project not in `busy`. */
  nextQueued (busy: readonly string[], kind: 'any' | 'rollback' = 'any'): BuildRecord | null {
    const row = this.#sql(`
      SELECT id FROM builds WHERE status = 'queued' AND project NOT IN (SELECT value FROM json_each(?)) AND (? = 'any' OR source = 'rollback')
      ORDER BY id LIMIT 1
    `).get(JSON.stringify(busy), kind) as { id: number } | undefined
    return row === undefined ? null : this.get(row.id)
  }

  /**
   * queued → running, building the commit it was triggered for or `built`'s; false (and nothing changed)
   * when the build is not queued any more (cancelled or superseded meanwhile).
   */
  start (id: number, now = new Date(), built?: StartCommit): boolean {
    const project = this.#db.transaction(() => {
      // An earlier attempt's commit (a head check before it): its states end if this attempt builds another.
      const before = this.#sql('SELECT built_commit FROM builds WHERE id = ?').get(id) as { built_commit: string | null } | undefined
      const row = this.#sql(`
        UPDATE builds SET status = 'running', started_at = ?, built_commit = coalesce(?, commit_sha), commit_reason = ? WHERE id = ? AND status = 'queued' RETURNING project
      `).get(now.toISOString(), built?.commit ?? null, built?.reason ?? null, id) as { project: string } | undefined
      if (row === undefined) return null
      if (built !== undefined) {
        const tags = this.#sql('UPDATE build_images SET tags = ? WHERE build_id = ? AND position = ?')
        built.tags.forEach((entry, position) => tags.run(JSON.stringify(entry), id, position))
      }
      this.#changed(id, row.project, now, before!.built_commit)
      return row.project
    })()
    if (project === null) return false
    this.#announce([{ id, project, status: 'running' }])
    return true
  }

  updateImage (id: number, position: number, patch: ImagePatch): void {
    const columns: Record<string, unknown> = {
      status: patch.status,
      ...(patch.digest === undefined ? {} : { digest: patch.digest }),
      ...(patch.durationMs === undefined ? {} : { duration_ms: patch.durationMs }),
      ...(patch.error === undefined ? {} : { error: patch.error }),
      ...(patch.reason === undefined ? {} : { reason: patch.reason })
    }
    const names = Object.keys(columns)
    this.#sql(`UPDATE build_images SET ${names.map(name => `${name} = @${name}`).join(', ')} WHERE build_id = @id AND position = @position`)
      .run({ ...columns, id, position })
    this.emit('updated', { id })
  }

  setDeploy (id: number, deploy: DeployPatch): void {
    this.#sql(`
      UPDATE builds SET deploy_status = ?, deploy_error = ?, deploy_strategy = coalesce(?, deploy_strategy), deploy_reason = coalesce(?, deploy_reason) WHERE id = ?
    `).run(deploy.status, deploy.error, deploy.strategy ?? null, deploy.reason ?? null, id)
    this.emit('updated', { id })
  }

  /**
   * Records that the build changed its project's workloads (its deploy sent a patch): the project's deploy
   * history gets the build, its commit and its images' digests, with whether the rollout succeeded (recorded
   * again, only that changes). Returns what the project runs now.
   */
  recordDeploy (id: number, deploy: Pick<Deployed, 'strategy' | 'status' | 'commit'>, now = new Date()): Deployed {
    const deployed = this.#db.transaction((): Deployed => {
      const build = this.get(id)!
      const at = now.toISOString()
      const digests = Object.fromEntries(build.images.filter(image => image.digest !== null).map(image => [image.image, image.digest!]))
      const added = this.deploys.record({ ...deploy, build: id, digests, rollbackOf: build.rollbackOf, at }, build.project)
      if (added) this.#sql('UPDATE builds SET deployed_at = ? WHERE id = ?').run(at, id)
      return this.deploys.current(build.project)!
    })()
    this.emit('updated', { id })
    return deployed
  }

  /**
   * running → queued again with attempt + 1, its images pending, and why (`retry`): the attempt ended
   * through no fault of the build's (BuildKit went away). When a newer build of the project is queued by
   * then, this one is superseded by it instead (newest push wins). Null when the build was not running.
   */
  requeue (id: number, retry: Omit<Retry, 'attempt' | 'at'>, now = new Date()): 'queued' | 'superseded' | null {
    const at = now.toISOString()
    const result = this.#db.transaction((): { project: string, outcome: 'queued' | 'superseded' } | null => {
      const row = this.#sql(`
        UPDATE builds SET status = 'queued', attempt = attempt + 1, started_at = NULL, error = NULL,
          retry_attempt = attempt, retry_reason = ?, retry_error = ?, retry_at = ?
        WHERE id = ? AND status = 'running' RETURNING project
      `).get(retry.reason, retry.error, at, id) as { project: string } | undefined
      if (row === undefined) return null
      this.#sql(`UPDATE build_images SET status = 'pending', digest = ${KEEP_ROLLBACK_DIGEST}, duration_ms = NULL, error = NULL, reason = NULL WHERE build_id = ?`).run(id)
      const newer = this.#sql(`SELECT max(id) AS id FROM builds WHERE project = ? AND status = 'queued' AND id > ?`).get(row.project, id) as { id: number | null }
      if (newer.id !== null) this.#sql(`UPDATE builds SET status = 'superseded', superseded_by = ?, finished_at = ? WHERE id = ?`).run(newer.id, at, id)
      this.#changed(id, row.project, now)
      return { project: row.project, outcome: newer.id === null ? 'queued' as const : 'superseded' as const }
    })()
    if (result === null) return null
    this.#announce([{ id, project: result.project, status: result.outcome }])
    return result.outcome
  }

  /** queued → cancelled; false when the build was not queued (any more). */
  cancelQueued (id: number, error: string, now = new Date()): boolean {
    const row = this.#db.transaction(() => {
      const row = this.#sql(`UPDATE builds SET status = 'cancelled', error = ?, finished_at = ? WHERE id = ? AND status = 'queued' RETURNING project`)
        .get(error, now.toISOString(), id) as { project: string } | undefined
      if (row !== undefined) this.#changed(id, row.project, now)
      return row
    })()
    if (row !== undefined) this.#announce([{ id, project: row.project, status: 'cancelled' }])
    return row !== undefined
  }

  /**
   * After a restart: builds left `running` by a dead process are queued again with attempt + 1, or failed
   * once they had `maxAttempts`; then each project keeps only its newest queued build.
   */
  recover (maxAttempts: number, now = new Date()): Recovery {
    const recovery = this.#db.transaction((): { changes: ChangeEvent[], recovery: Recovery } => {
      const at = now.toISOString()
      const failed = this.#sql(`
        UPDATE builds SET status = 'failed', finished_at = @at,
          error = 'the service stopped during attempt ' || attempt || ', and a build is tried at most ' || CAST(@max AS INTEGER) || ' times: not retried again'
        WHERE status = 'running' AND attempt >= @max RETURNING id, project
      `).all({ at, max: maxAttempts }) as Array<{ id: number, project: string }>
      // Their images end with them: the one that was building failed with the service, the others never ran.
      this.#sql(`
        UPDATE build_images SET
          error = CASE status WHEN 'running' THEN 'the service stopped while this image was building' ELSE error END,
          status = CASE status WHEN 'running' THEN 'failed' ELSE 'cancelled' END
        WHERE build_id IN (SELECT value FROM json_each(?)) AND status IN ('pending', 'running')
      `).run(JSON.stringify(failed.map(row => row.id)))
      const requeued = this.#sql(`
        UPDATE builds SET status = 'queued', attempt = attempt + 1, started_at = NULL WHERE status = 'running' RETURNING id, project
      `).all() as Array<{ id: number, project: string }>
      this.#sql(`UPDATE build_images SET status = 'pending', digest = ${KEEP_ROLLBACK_DIGEST}, duration_ms = NULL, error = NULL, reason = NULL WHERE build_id IN (SELECT value FROM json_each(?))`)
        .run(JSON.stringify(requeued.map(row => row.id)))
      const superseded = this.#sql(`
        UPDATE builds AS old SET status = 'superseded', finished_at = ?,
          superseded_by = (SELECT max(id) FROM builds AS newest WHERE newest.project = old.project AND newest.status = 'queued')
        WHERE old.status = 'queued' AND old.id < (SELECT max(id) FROM builds AS newest WHERE newest.project = old.project AND newest.status = 'queued')
        RETURNING id, project
      `).all(at) as Array<{ id: number, project: string }>
      const stillQueued = requeued.filter(row => !superseded.some(other => other.id === row.id))
      const changes: ChangeEvent[] = [
        ...failed.map(row => ({ ...row, status: 'failed' as const })),
        ...stillQueued.map(row => ({ ...row, status: 'queued' as const })),
        ...superseded.map(row => ({ ...row, status: 'superseded' as const }))
      ]
      for (const change of changes) this.#changed(change.id, change.project, now)
      return { changes, recovery: { requeued: stillQueued.map(row => row.id), failed: failed.map(row => row.id), superseded: superseded.map(row => row.id) } }
    })()
    this.#announce(recovery.changes)
    return recovery.recovery
  }

  /** Deletes the project's finished builds beyond the newest `keep`; returns their ids (for their logs). */
  prune (project: string, keep: number): number[] {
    // The newest build not kept, found through the (project, id) index: no scan of the whole history.
    const cutoff = this.#sql('SELECT id FROM builds WHERE project = ? ORDER BY id DESC LIMIT 1 OFFSET ?').get(project, keep) as { id: number } | undefined
    if (cutoff === undefined) return []
    // The deploy history keeps its newest entries; the builds of the latest few stay for rollbacks, and so
    // does the one a rollback without a build goes back to, however many failed rollouts came after it.
    this.deploys.prune(project)
    return (this.#sql(`
      DELETE FROM builds WHERE project = @project AND id <= @cutoff AND status NOT IN ('queued', 'running')
        AND id NOT IN (SELECT build_id FROM deploys WHERE project = @project ORDER BY id DESC LIMIT @kept) AND id <> @previous
        AND NOT EXISTS (SELECT 1 FROM reports WHERE reports.build_id = builds.id AND reports.status = 'pending')
      RETURNING id
    `).all({ project, cutoff: cutoff.id, kept: DEPLOYS_KEPT_FOR_ROLLBACK, previous: this.deploys.previous(project)?.build ?? 0 }) as Array<{ id: number }>).map(row => row.id)
  }

  /**
   * The build's final status; images still pending or running end with it. Only a queued or running build
   * can be finished: false (and nothing changed) when it is already finished, or unknown.
   */
  finish (id: number, status: BuildStatus, error: string | null, now = new Date()): boolean {
    const imageStatus = status === 'succeeded' ? 'succeeded' : 'cancelled'
    const project = this.#db.transaction(() => {
      const row = this.#sql(`UPDATE builds SET status = ?, error = ?, finished_at = ? WHERE id = ? AND status IN ('queued', 'running') RETURNING project`)
        .get(status, error, now.toISOString(), id) as { project: string } | undefined
      if (row === undefined) return null
      this.#sql(`UPDATE build_images SET status = ? WHERE build_id = ? AND status IN ('pending', 'running')`).run(imageStatus, id)
      this.#changed(id, row.project, now)
      return row.project
    })()
    if (project === null) return false
    this.#announce([{ id, project, status }])
    return true
  }

  /** Builds newest first, filtered, at most `limit`, and the id to ask `before` for the next page (or null). */
  list (query: ListQuery): { builds: BuildRecord[], next: number | null } {
    const rows = this.#sql(`
      SELECT id FROM builds
      WHERE (@project IS NULL OR project = @project) AND (@status IS NULL OR status = @status) AND (@before IS NULL OR id < @before)
      ORDER BY id DESC LIMIT @limit
    `).all({ project: query.project ?? null, status: query.status ?? null, before: query.before ?? null, limit: query.limit + 1 }) as Array<{ id: number }>
    const page = rows.slice(0, query.limit)
    return { builds: page.map(row => this.get(row.id)!), next: rows.length > query.limit ? page.at(-1)!.id : null }
  }

  /** Each project's newest build. */
  latest (): Map<string, BuildRecord> {
    const rows = this.#sql('SELECT max(id) AS id FROM builds GROUP BY project').all() as Array<{ id: number }>
    return new Map(rows.map(row => { const build = this.get(row.id)!; return [build.project, build] }))
  }

  /** How many builds of each project have `status` (queue depth, running builds). */
  countByProject (status: BuildStatus): Map<string, number> {
    const rows = this.#sql('SELECT project, count(*) AS n FROM builds WHERE status = ? GROUP BY project').all(status) as Array<{ project: string, n: number }>
    return new Map(rows.map(row => [row.project, row.n]))
  }

  close (): void {
    if (this.#db.open) this.#db.close()
  }
}
