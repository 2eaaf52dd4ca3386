import type { Database, Statement } from 'better-sqlite3'
import type { Deployed, DeployStrategy } from '../schemas/build.js'

/** How many of a project's latest deploys keep their builds from retention, so that a rollback has them. */
export const DEPLOYS_KEPT_FOR_ROLLBACK = 10
/** How many deploys of each project the history keeps. */
export const DEPLOY_HISTORY = 100

interface DeployRow {
  id: number
  project: string
  build_id: number
  commit_sha: string
  digests: string
  strategy: DeployStrategy
  status: Deployed['status']
  rollback_of: number | null
  deployed_at: string
}

/**
 * The deploys table of the build store: every change a build made to its project's workloads, newest last.
 * Its newest entry is what the project runs now (docs/contract.md "Never deploy backwards"); the ones before are what
 * a rollback goes back to.
 */
export class DeployHistory {
  readonly #insert: Statement
  readonly #update: Statement
  readonly #byBuild: Statement
  readonly #current: Statement
  readonly #all: Statement
  readonly #previous: Statement
  readonly #prune: Statement

  /** `db`: the build store's database, migrated. */
  constructor (db: Database) {
    this.#insert = db.prepare(`
      INSERT INTO deploys (project, build_id, commit_sha, digests, strategy, status, rollback_of, deployed_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)
    `)
    this.#update = db.prepare('UPDATE deploys SET status = ?, commit_sha = ?, digests = ?, strategy = ? WHERE id = ?')
    this.#byBuild = db.prepare('SELECT id FROM deploys WHERE build_id = ?')
    this.#current = db.prepare('SELECT * FROM deploys WHERE project = ? ORDER BY id DESC LIMIT 1')
    this.#all = db.prepare('SELECT * FROM deploys WHERE id IN (SELECT max(id) FROM deploys GROUP BY project)')
    // Like `kubectl rollout undo`: two rollbacks in a row go back and forth.
    this.#previous = db.prepare(`
      SELECT previous.* FROM deploys AS previous, (SELECT id, digests FROM deploys WHERE project = @project ORDER BY id DESC LIMIT 1) AS current
      WHERE previous.project = @project AND previous.id < current.id AND previous.status = 'succeeded' AND previous.digests <> current.digests
      ORDER BY previous.id DESC LIMIT 1
    `)
    this.#prune = db.prepare(`
      DELETE FROM deploys WHERE project = @project AND id <= (SELECT id FROM deploys WHERE project = @project ORDER BY id DESC LIMIT 1 OFFSET @history)
    `)
  }

  /**
   * Adds the build's deploy, or (recorded before: its rollout ended, or a later attempt deploys again) updates
   * it in place, keeping when it first changed the workloads; false when it was recorded before.
   */
  record (deployed: Deployed, project: string): boolean {
    const existing = this.#byBuild.get(deployed.build) as { id: number } | undefined
    if (existing !== undefined) {
      this.#update.run(deployed.status, deployed.commit, JSON.stringify(deployed.digests), deployed.strategy, existing.id)
      return false
    }
    this.#insert.run(project, deployed.build, deployed.commit, JSON.stringify(deployed.digests), deployed.strategy, deployed.status, deployed.rollbackOf, deployed.at)
    return true
  }

  /** What the project's workloads were last set to run, by which build; null before its first deploy. */
  current (project: string): Deployed | null {
    const row = this.#current.get(project) as DeployRow | undefined
    return row === undefined ? null : toDeployed(row)
  }

  /** Each project's current deploy, for the projects that deployed. */
  all (): Map<string, Deployed> {
    return new Map((this.#all.all() as DeployRow[]).map(row => [row.project, toDeployed(row)]))
  }

  /**
   * What a rollback without a build goes back to: the newest deploy before the current one that succeeded
   * and deployed other digests. Null when there is none.
   */
  previous (project: string): Deployed | null {
    const row = this.#previous.get({ project }) as DeployRow | undefined
    return row === undefined ? null : toDeployed(row)
  }

  /** Keeps the project's newest DEPLOY_HISTORY entries. */
  prune (project: string): void {
    this.#prune.run({ project, history: DEPLOY_HISTORY })
  }
}

function toDeployed (row: DeployRow): Deployed {
  return {
    build: row.build_id,
    commit: row.commit_sha,
    digests: JSON.parse(row.digests) as Record<string, string>,
    strategy: row.strategy,
    status: row.status,
    rollbackOf: row.rollback_of,
    at: row.deployed_at
  }
}
