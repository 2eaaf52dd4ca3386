import type { Database } from 'better-sqlite3'
import { BuildHookError } from '../errors.js'

/**
 * The schema, one step per version; PRAGMA user_version records how many have run, so a newer release
 * opens an older database by running the steps it lacks (each in a transaction), and refuses a newer one.
 */
export const MIGRATIONS: ReadonlyArray<(db: Database) => void> = [
  db => db.exec(`
    CREATE TABLE builds (
      id INTEGER PRIMARY KEY AUTOINCREMENT,
      project TEXT NOT NULL,
      status TEXT NOT NULL,
      source TEXT NOT NULL,
      event TEXT NOT NULL,
      delivery TEXT,
      ref TEXT NOT NULL,
      commit_sha TEXT NOT NULL,
      sender TEXT,
      created_at TEXT NOT NULL,
      started_at TEXT,
      finished_at TEXT,
      error TEXT,
      attempt INTEGER NOT NULL DEFAULT 1,
      deploy_status TEXT NOT NULL,
      deploy_namespace TEXT,
      deploy_resources TEXT NOT NULL DEFAULT '[]',
      deploy_error TEXT
    );
    CREATE INDEX builds_by_project ON builds (project, id);
    CREATE INDEX builds_by_status ON builds (status, id);
    CREATE TABLE build_images (
      build_id INTEGER NOT NULL REFERENCES builds (id) ON DELETE CASCADE,
      position INTEGER NOT NULL,
      image TEXT NOT NULL,
      tags TEXT NOT NULL,
      status TEXT NOT NULL,
      digest TEXT,
      duration_ms INTEGER,
      error TEXT,
      PRIMARY KEY (build_id, position)
    );
  `),
  // 2: newest push wins (which build replaced a queued one), and the Git hosts' delivery ids already seen.
  db => db.exec(`
    ALTER TABLE builds ADD COLUMN superseded_by INTEGER REFERENCES builds (id) ON DELETE SET NULL;
    CREATE INDEX builds_active_commits ON builds (project, commit_sha) WHERE status IN ('queued', 'running');
    CREATE TABLE deliveries (
      source TEXT NOT NULL,
      delivery TEXT NOT NULL,
      build_id INTEGER NOT NULL REFERENCES builds (id) ON DELETE CASCADE,
      received_at TEXT NOT NULL,
      PRIMARY KEY (source, delivery)
    );
  `),
  // 3: deleting old builds (retention) cascades to their deliveries and clears references to them:
  // without these indexes each deleted row scanned both tables.
  db => db.exec(`
    CREATE INDEX deliveries_by_build ON deliveries (build_id);
    CREATE INDEX builds_by_superseded_by ON builds (superseded_by) WHERE superseded_by IS NOT NULL;
  `),
  // 4: the head check: the commit a build built (the branch head when it moved after the push), and why it
  // differs from the pushed one or was not checked. Builds that already started built what was pushed.
  db => db.exec(`
    ALTER TABLE builds ADD COLUMN built_commit TEXT;
    ALTER TABLE builds ADD COLUMN commit_reason TEXT;
    UPDATE builds SET built_commit = commit_sha WHERE started_at IS NOT NULL;
  `),
  // 5: the process group (leader pid and start time) of every docker child while it runs, so that the next
  // start ends those a killed process left behind before their builds run again.
  db => db.exec(`
    CREATE TABLE process_groups (
      pgid INTEGER NOT NULL,
      start_time INTEGER NOT NULL,
      build_id INTEGER,
      command TEXT NOT NULL,
      recorded_at TEXT NOT NULL,
      PRIMARY KEY (pgid, start_time)
    );
  `),
  // 6: why each image failed (a typed reason), and why a build was queued again after BuildKit went away.
  db => db.exec(`
    ALTER TABLE build_images ADD COLUMN reason TEXT;
    ALTER TABLE builds ADD COLUMN retry_attempt INTEGER;
    ALTER TABLE builds ADD COLUMN retry_reason TEXT;
    ALTER TABLE builds ADD COLUMN retry_error TEXT;
    ALTER TABLE builds ADD COLUMN retry_at TEXT;
  `),
  // 7: deploy by digest and rollback. Each change a build made to its project's workloads (the deploy history:
  // what is deployed now, what a rollback goes back to); how a build deployed, or why it did not; and which
  // build a rollback deploys again. No foreign key to builds: the history outlives retention.
  db => db.exec(`
    CREATE TABLE deploys (
      id INTEGER PRIMARY KEY AUTOINCREMENT,
      project TEXT NOT NULL,
      build_id INTEGER NOT NULL,
      commit_sha TEXT NOT NULL,
      digests TEXT NOT NULL,
      strategy TEXT NOT NULL,
      status TEXT NOT NULL,
      rollback_of INTEGER,
      deployed_at TEXT NOT NULL
    );
    CREATE INDEX deploys_by_project ON deploys (project, id);
    ALTER TABLE builds ADD COLUMN rollback_of INTEGER;
    ALTER TABLE builds ADD COLUMN deploy_strategy TEXT;
    ALTER TABLE builds ADD COLUMN deploy_reason TEXT;
    ALTER TABLE builds ADD COLUMN deployed_at TEXT;
  `),
  // 8: commit statuses and notifications waiting to be sent, or sent (the outbox): written in the transaction
  // that changed the build, so that a crash right after a change never loses its report. `stream`: reports
  // of one stream are sent one at a time, in order (one commit's status on one host; one notify target's
  // events of one build).
  db => db.exec(`
    CREATE TABLE reports (
      id INTEGER PRIMARY KEY AUTOINCREMENT,
      build_id INTEGER NOT NULL REFERENCES builds (id) ON DELETE CASCADE,
      target TEXT NOT NULL,
      kind TEXT NOT NULL,
      label TEXT NOT NULL,
      stream TEXT NOT NULL,
      event TEXT NOT NULL,
      commit_sha TEXT,
      state TEXT,
      request TEXT,
      delivery TEXT NOT NULL,
      status TEXT NOT NULL,
      attempts INTEGER NOT NULL DEFAULT 0,
      created_at TEXT NOT NULL,
      next_at TEXT NOT NULL,
      last_at TEXT,
      response_status INTEGER,
      error TEXT
    );
    CREATE INDEX reports_by_build ON reports (build_id);
    CREATE INDEX reports_pending ON reports (stream, id) WHERE status = 'pending';
  `)
]

export const SCHEMA_VERSION = MIGRATIONS.length

/** Brings the database to SCHEMA_VERSION, one migration per transaction; refuses (and closes) a newer one. */
export function migrate (db: Database): void {
  const version = db.pragma('user_version', { simple: true }) as number
  if (version > SCHEMA_VERSION) {
    db.close()
    throw new BuildHookError('BH_STORE_TOO_NEW', `The build store was written by a newer build-hook (schema ${version}; this release knows ${SCHEMA_VERSION}): upgrade, or point DATA_DIR elsewhere`)
  }
  for (let next = version; next < SCHEMA_VERSION; next++) {
    db.transaction(() => {
      MIGRATIONS[next]!(db)
      db.pragma(`user_version = ${next + 1}`)
    })()
  }
}
