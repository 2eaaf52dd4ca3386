import { chmodSync, mkdirSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import Database from 'better-sqlite3'
import t from 'tap'
import { BuildStore, DATABASE_FILE, type NewBuild } from '../../../lib/store/build-store.js'
import { SCHEMA_VERSION } from '../../../lib/store/migrations.js'
import { tempDir } from '../../helper.js'

const NEW: NewBuild = {
  project: 'demo',
  trigger: { source: 'api', event: 'trigger', delivery: null, ref: 'refs/heads/main', commit: 'a'.repeat(40), sender: null },
  images: [{ image: 'registry.test/demo/web', tags: ['latest', 'sha-aaaaaaaaaaaa'] }, { image: 'registry.test/demo/api', tags: ['latest', 'sha-aaaaaaaaaaaa'] }],
  deploy: { status: 'pending', namespace: 'demo', resources: ['deployment/web'] }
}

t.test('a recorded build reads back whole, and its transitions are kept', async t => {
  const store = new BuildStore(path.join(tempDir(t), 'nested', 'data'))
  t.teardown(() => store.close())
  const created = store.create(NEW, new Date('2026-11-25T10:00:00.000Z'))
  t.same(created, {
    id: 1, project: 'demo', status: 'queued', trigger: NEW.trigger, createdAt: '2026-11-25T10:00:00.000Z', startedAt: null, finishedAt: null,
    images: NEW.images.map(image => ({ ...image, status: 'pending', digest: null, durationMs: null, error: null })),
    deploy: { ...NEW.deploy, error: null }, error: null, attempt: 1, supersededBy: null
  })
  t.same(store.nextQueued([]), created)
  t.equal(store.nextQueued(['demo']), null, 'a busy project is skipped')
  store.start(1, new Date('2026-11-25T10:00:01.000Z'))
  store.updateImage(1, 0, { status: 'succeeded', digest: `sha256:${'1'.repeat(64)}`, durationMs: 1200, error: null })
  store.setDeploy(1, { status: 'failed', error: 'deployment/web: not found' })
  store.finish(1, 'failed', 'boom', new Date('2026-11-25T10:00:02.000Z'))
  t.match(store.get(1), {
    status: 'failed', error: 'boom', startedAt: '2026-11-25T10:00:01.000Z', finishedAt: '2026-11-25T10:00:02.000Z',
    images: [{ status: 'succeeded', digest: `sha256:${'1'.repeat(64)}`, durationMs: 1200 }, { status: 'cancelled', digest: null }],
    deploy: { status: 'failed', error: 'deployment/web: not found' }
  })
  t.equal(store.get(2), null)
  store.close()
  store.close()
  t.pass('closing twice is harmless')
})

t.test('the database is in WAL mode under DATA_DIR, at the current schema version', async t => {
  const dir = tempDir(t)
  new BuildStore(dir).close()
  const db = new Database(path.join(dir, DATABASE_FILE), { readonly: true })
  t.teardown(() => db.close())
  t.equal(db.pragma('journal_mode', { simple: true }), 'wal')
  t.equal(db.pragma('user_version', { simple: true }), SCHEMA_VERSION)
})

t.test('a DATA_DIR that cannot be written stops start-up with a clear error', async t => {
  const dir = tempDir(t)
  const file = path.join(dir, 'not-a-dir')
  writeFileSync(file, '')
  t.throws(() => new BuildStore(file), { code: 'BH_STORE_UNAVAILABLE', message: new RegExp(`^Cannot open the build store ${file}/${DATABASE_FILE}: .* \\(DATA_DIR must be a writable directory\\)$`) })
  if (process.getuid?.() !== 0) {
    const readOnly = path.join(dir, 'read-only')
    mkdirSync(readOnly, { mode: 0o500 })
    chmodSync(readOnly, 0o500)
    t.throws(() => new BuildStore(readOnly), { code: 'BH_STORE_UNAVAILABLE' })
  }
})

t.test('a database written by a newer release is refused, not damaged', async t => {
  const dir = tempDir(t)
  const db = new Database(path.join(dir, DATABASE_FILE))
  db.pragma(`user_version = ${SCHEMA_VERSION + 1}`)
  db.close()
  t.throws(() => new BuildStore(dir), {
    code: 'BH_STORE_TOO_NEW',
    message: `The build store was written by a newer build-hook (schema ${SCHEMA_VERSION + 1}; this release knows ${SCHEMA_VERSION}): upgrade, or point DATA_DIR elsewhere`
  })
})
