import { chmodSync, mkdirSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import Database from 'better-sqlite3'
import t from 'tap'
import { BuildStore, DATABASE_FILE, type NewBuild } from '../../../lib/store/build-store.js'
import { DEPLOY_HISTORY, DEPLOYS_KEPT_FOR_ROLLBACK } from '../../../lib/store/deploy-history.js'
import { SCHEMA_VERSION } from '../../../lib/store/migrations.js'
import { sqlite, tempDir } from '../../helper.js'

const NEW: NewBuild = {
  project: 'demo',
  trigger: { source: 'api', event: 'trigger', delivery: null, ref: 'refs/heads/main', commit: 'a'.repeat(40), sender: null },
  images: [{ image: 'registry.test/demo/web', tags: ['latest', 'sha-aaaaaaaaaaaa'] }, { image: 'registry.test/demo/api', tags: ['latest', 'sha-aaaaaaaaaaaa'] }],
  deploy: { status: 'pending', namespace: 'demo', resources: ['deployment/web'] }
}

t.test('a recorded build reads back whole, and its transitions are kept', async t => {
  const store = new BuildStore(path.join(tempDir(t), 'nested', 'data'))
  t.teardown(() => store.close())
  const created = store.record(NEW, new Date('2026-11-25T10:00:00.000Z')).build
  t.same(created, {
    id: 1,
    project: 'demo',
    status: 'queued',
    trigger: NEW.trigger,
    commit: null,
    commitReason: null,
    createdAt: '2026-11-25T10:00:00.000Z',
    startedAt: null,
    finishedAt: null,
    images: NEW.images.map(image => ({ ...image, status: 'pending', digest: null, durationMs: null, error: null, reason: null })),
    deploy: { ...NEW.deploy, error: null, strategy: null, reason: null, deployedAt: null },
    error: null,
    attempt: 1,
    supersededBy: null,
    rollbackOf: null,
    retry: null,
    reports: []
  })
  t.same(store.nextQueued([]), created)
  t.equal(store.nextQueued(['demo']), null, 'a busy project is skipped')
  store.start(1, new Date('2026-11-25T10:00:01.000Z'))
  store.updateImage(1, 0, { status: 'succeeded', digest: `sha256:${'1'.repeat(64)}`, durationMs: 1200, error: null })
  store.setDeploy(1, { status: 'failed', error: 'deployment/web: not found' })
  store.finish(1, 'failed', 'boom', new Date('2026-11-25T10:00:02.000Z'))
  t.match(store.get(1), {
    status: 'failed',
    error: 'boom',
    startedAt: '2026-11-25T10:00:01.000Z',
    finishedAt: '2026-11-25T10:00:02.000Z',
    images: [{ status: 'succeeded', digest: `sha256:${'1'.repeat(64)}`, durationMs: 1200 }, { status: 'cancelled', digest: null }],
    deploy: { status: 'failed', error: 'deployment/web: not found' }
  })
  t.equal(store.get(2), null)
  store.close()
  t.doesNotThrow(() => store.close(), 'closing twice is harmless')
  t.throws(() => store.get(1), { message: 'The database connection is not open' }, 'and closed')
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

const trigger = (commit: string, delivery: string | null = null, project = 'demo'): NewBuild => ({
  ...NEW,
  project,
  trigger: { ...NEW.trigger, commit: commit.repeat(40).slice(0, 40), delivery, source: delivery === null ? 'api' : 'github' }
})

t.test('a newer trigger supersedes the queued builds of its project, recording by which build', async t => {
  const store = new BuildStore(tempDir(t))
  t.teardown(() => store.close())
  t.match(store.record(trigger('a')), { duplicate: false, superseded: [], build: { id: 1, status: 'queued' } })
  store.start(1)
  t.match(store.record(trigger('b')), { duplicate: false, superseded: [], build: { id: 2 } }, 'a running build is never superseded')
  t.match(store.record(trigger('c', null, 'other')), { superseded: [] }, 'another project is left alone')
  t.match(store.record(trigger('d')), { duplicate: false, superseded: [2], build: { id: 4 } })
  t.match(store.get(2), { status: 'superseded', supersededBy: 4, finishedAt: String })
  t.match(store.get(1), { status: 'running', supersededBy: null })
})

t.test('a commit already queued or running for the project is a duplicate, not a second build', async t => {
  const store = new BuildStore(tempDir(t))
  t.teardown(() => store.close())
  store.record(trigger('a'))
  t.match(store.record(trigger('a')), { duplicate: true, build: { id: 1, status: 'queued' } })
  store.start(1)
  t.match(store.record(trigger('a', 'delivery-1')), { duplicate: true, build: { id: 1, status: 'running' } })
  t.match(store.record(trigger('a', 'delivery-1')), { duplicate: true, build: { id: 1 } }, 'the delivery was remembered for that build')
  store.finish(1, 'succeeded', null)
  t.match(store.record(trigger('a', 'delivery-1')), { duplicate: true, build: { id: 1, status: 'succeeded' } }, 'a redelivery of a finished build still builds nothing')
  t.match(store.record(trigger('a')), { duplicate: false, build: { id: 2 } }, 'the same commit may be built again once the last build finished')
  t.match(store.record(trigger('a', 'delivery-1', 'demo')), { duplicate: true, build: { id: 1 } })
  const other = { ...trigger('b', 'delivery-1'), trigger: { ...trigger('b', 'delivery-1').trigger, source: 'gitlab' as const } }
  t.match(store.record(other), { duplicate: false }, 'delivery ids are per source')
})

t.test('a commit is a duplicate only of the newest queued or running build: a push back to the running commit is built', async t => {
  const store = new BuildStore(tempDir(t))
  t.teardown(() => store.close())
  store.record(trigger('a'))
  store.start(1)
  t.match(store.record(trigger('b')), { duplicate: false, build: { id: 2, status: 'queued' } })
  t.match(store.record(trigger('a')), { duplicate: false, superseded: [2], build: { id: 3, status: 'queued' } }, 'X running, Y queued, a force-push back to X')
  t.match(store.get(2), { status: 'superseded', supersededBy: 3 })
  t.match(store.record(trigger('a')), { duplicate: true, build: { id: 3 } }, 'the newest build has it: a duplicate of that one')
  t.match(store.record(trigger('c', null, 'other')), { duplicate: false, build: { id: 4 } })
  t.match(store.record(trigger('a')), { duplicate: true, build: { id: 3 } }, "another project's builds do not count")
})

t.test('triggers recorded together in one transaction (group commit) are decided exactly as one by one', async t => {
  const rollback: NewBuild = { ...trigger('a'), trigger: { ...trigger('a').trigger, source: 'rollback', event: 'rollback' }, rollbackOf: 1 }
  const batch = [
    trigger('e'), // the commit the running build builds (its head moved after its push): a duplicate of it
    trigger('b'), // queued behind the running build
    trigger('b', 'delivery-1'), // its commit: a duplicate of the build just recorded in the same transaction
    trigger('c', null, 'other'),
    trigger('a'), // the commit the running build was pushed for, not the one it builds: built, superseding the queued one
    trigger('a'), // now a duplicate of that one
    rollback, // never a duplicate; supersedes it
    trigger('a'), // not a duplicate of a rollback
    trigger('b', 'delivery-1'), // a delivery seen earlier in the same transaction
    trigger('c', null, 'other'),
    trigger('e'), // the running build's commit again, now that a newer build is queued: built
    trigger('f') // supersedes it: its commit's state is the running build's (the commit's owner)
  ]
  const now = new Date('2026-11-27T08:00:00.000Z')
  const outcomes = (all: ReturnType<BuildStore['recordAll']>): unknown[] => all.map(({ build, duplicate, superseded }) => ({ id: build.id, duplicate, superseded }))
  const stores = [new BuildStore(tempDir(t)), new BuildStore(tempDir(t))]
  t.teardown(() => { for (const store of stores) store.close() })
  const events: string[][] = [[], []]
  const plans: string[][] = [[], []]
  stores.forEach((store, i) => {
    store.record(trigger('a'), now)
    store.start(1, now, { commit: 'e'.repeat(40), reason: 'the branch moved', tags: [['latest'], ['latest']] })
    store.on('change', ({ id, status }) => events[i]!.push(`${id} ${status}`))
    // Reports planned in the transaction read the builds as they are at that point of it.
    store.reportPlanner = {
      reports: () => true,
      plan: (build, context) => {
        plans[i]!.push(`${build.id} ${build.status} by ${build.supersededBy} owner ${context.commitOwner?.id ?? '-'}`)
        return []
      }
    }
  })
  const together = outcomes(stores[0]!.recordAll(batch, now))
  const oneByOne = outcomes(batch.map(build => stores[1]!.record(build, now)))
  t.same(together, [
    { id: 1, duplicate: true, superseded: [] },
    { id: 2, duplicate: false, superseded: [] },
    { id: 2, duplicate: true, superseded: [] },
    { id: 3, duplicate: false, superseded: [] },
    { id: 4, duplicate: false, superseded: [2] },
    { id: 4, duplicate: true, superseded: [] },
    { id: 5, duplicate: false, superseded: [4] },
    { id: 6, duplicate: false, superseded: [5] },
    { id: 2, duplicate: true, superseded: [] },
    { id: 3, duplicate: true, superseded: [] },
    { id: 7, duplicate: false, superseded: [6] },
    { id: 8, duplicate: false, superseded: [7] }
  ])
  t.same(together, oneByOne)
  t.same(events[0], events[1], 'the same changes announced')
  t.ok(plans[0]!.includes('2 superseded by 4 owner -'), 'a build superseded in the transaction is planned as superseded')
  t.ok(plans[0]!.includes('7 superseded by 8 owner 1'), 'with the running build that has its commit as the owner')
  t.same(plans[0], plans[1], 'the same reports planned, from the same rows')
  t.same(stores[0]!.list({ limit: 100 }), stores[1]!.list({ limit: 100 }), 'the same rows written')
  t.same(stores[0]!.list({ limit: 100 }).builds.map(build => `${build.id} ${build.status}`), ['8 queued', '7 superseded', '6 superseded', '5 superseded', '4 superseded', '3 queued', '2 superseded', '1 running'])
})

t.test('recovery queues again what a dead process left running, fails it after the last attempt, and coalesces', async t => {
  const store = new BuildStore(tempDir(t))
  t.teardown(() => store.close())
  store.record(trigger('a', null, 'p1'))
  store.start(1)
  store.updateImage(1, 0, { status: 'running' })
  store.record(trigger('b', null, 'p2'))
  store.start(2)
  store.record({ ...trigger('c', null, 'p3'), attempt: 3 })
  store.start(3)
  store.record(trigger('d', null, 'p2'))
  store.record(trigger('e', null, 'p4'))
  t.same(store.recover(3), { requeued: [1], failed: [3], superseded: [2] })
  t.match(store.get(1), { status: 'queued', attempt: 2, startedAt: null, images: [{ status: 'pending' }] })
  t.match(store.get(2), { status: 'superseded', supersededBy: 4, attempt: 2 }, 'the newest push of p2 wins')
  t.match(store.get(3), { status: 'failed', error: 'the service stopped during attempt 3, and a build is tried at most 3 times: not retried again' })
  t.match(store.get(5), { status: 'queued', attempt: 1 })
  t.same(store.recover(3), { requeued: [], failed: [], superseded: [] }, 'nothing left to do')
})

t.test('a build failed by recovery ends its images: the one building failed, the ones not started cancelled', async t => {
  const store = new BuildStore(tempDir(t))
  t.teardown(() => store.close())
  store.record({ ...trigger('c', null, 'p3'), attempt: 3 })
  store.start(1)
  store.updateImage(1, 0, { status: 'running' })
  t.same(store.recover(3), { requeued: [], failed: [1], superseded: [] })
  t.match(store.get(1)!.images, [
    { status: 'failed', error: 'the service stopped while this image was building' },
    { status: 'cancelled', error: null }
  ])
})

t.test('a build that lost BuildKit is queued again with attempt + 1 and why; a newer queued build replaces it instead', async t => {
  const store = new BuildStore(tempDir(t))
  t.teardown(() => store.close())
  const finals: string[] = []
  store.on('final', event => finals.push(`${event.id} ${event.status}`))
  store.record(trigger('a', null, 'p1'))
  store.start(1)
  store.updateImage(1, 0, { status: 'failed', error: 'the connection to BuildKit was lost', reason: 'builder-connection-lost' })
  t.equal(store.get(1)!.images[0]!.reason, 'builder-connection-lost', 'an image keeps its reason')
  const retry = { reason: 'builder-connection-lost' as const, error: 'registry.test/demo/web: the connection to BuildKit was lost' }
  t.equal(store.requeue(1, retry, new Date('2026-11-25T10:00:00.000Z')), 'queued')
  t.match(store.get(1), {
    status: 'queued',
    attempt: 2,
    startedAt: null,
    finishedAt: null,
    error: null,
    images: [{ status: 'pending', error: null, reason: null, digest: null }],
    retry: { attempt: 1, ...retry, at: '2026-11-25T10:00:00.000Z' }
  })
  t.equal(store.requeue(1, retry), null, 'only a running build')
  store.start(1)
  store.record(trigger('b', null, 'p1'))
  t.equal(store.requeue(1, retry), 'superseded', 'a newer push of the project is queued: the newest push wins')
  t.match(store.get(1), { status: 'superseded', supersededBy: 2, attempt: 3, finishedAt: String, retry: { attempt: 2 } })
  t.same(finals, ['1 superseded'])
})

t.test('only queued builds can be cancelled directly', async t => {
  const store = new BuildStore(tempDir(t))
  t.teardown(() => store.close())
  store.record(trigger('a'))
  t.ok(store.cancelQueued(1, 'cancelled through the API'))
  t.match(store.get(1), { status: 'cancelled', error: 'cancelled through the API', finishedAt: String })
  t.notOk(store.cancelQueued(1, 'again'))
})

t.test('a finished build cannot be finished again: the first outcome stays, and is announced once', async t => {
  const store = new BuildStore(tempDir(t))
  t.teardown(() => store.close())
  const finals: unknown[] = []
  store.on('final', event => finals.push(event))
  store.record(trigger('a'))
  store.start(1)
  store.updateImage(1, 0, { status: 'succeeded', digest: null, durationMs: 1, error: null })
  t.equal(store.finish(1, 'cancelled', 'cancelled through the API', new Date('2026-11-25T10:00:00.000Z')), true)
  t.equal(store.finish(1, 'succeeded', null, new Date('2026-11-25T10:00:05.000Z')), false, 'refused')
  t.match(store.get(1), { status: 'cancelled', error: 'cancelled through the API', finishedAt: '2026-11-25T10:00:00.000Z', images: [{ status: 'succeeded' }, { status: 'cancelled' }] })
  t.same(finals, [{ id: 1, project: 'demo', status: 'cancelled' }])
  t.equal(store.finish(99, 'failed', 'no such build'), false, 'an unknown build is no error either')
  store.record(trigger('b'))
  t.equal(store.finish(2, 'failed', 'its project is gone'), true, 'a queued build can be finished')
  t.match(store.get(2), { status: 'failed' })
})

t.test('retention deletes the finished builds of a project beyond the newest N, never queued or running ones', async t => {
  const store = new BuildStore(tempDir(t))
  t.teardown(() => store.close())
  for (const commit of 'abcde') {
    const { build } = store.record(trigger(commit))
    if (commit !== 'e') { store.start(build.id); store.finish(build.id, 'succeeded', null) }
  }
  store.record(trigger('f', 'd1', 'other'))
  t.same(store.prune('demo', 2), [1, 2, 3])
  t.same([1, 2, 3, 4, 5, 6].map(id => store.get(id)?.status ?? null), [null, null, null, 'succeeded', 'queued', 'queued'])
  t.same(store.prune('demo', 1), [4])
  t.same(store.prune('demo', 1), [], 'the queued build is kept whatever N')
  const db = sqlite(t, store)
  t.equal((db.prepare('SELECT count(*) AS n FROM build_images WHERE build_id < 5').get() as { n: number }).n, 0, 'their images went with them')
})

t.test('a database from the first schema version opens, migrates, and keeps its builds', async t => {
  const dir = tempDir(t)
  const { MIGRATIONS } = await import('../../../lib/store/migrations.js')
  const old = new Database(path.join(dir, DATABASE_FILE))
  MIGRATIONS[0]!(old)
  old.pragma('user_version = 1')
  old.prepare(`INSERT INTO builds (project, status, source, event, ref, commit_sha, created_at, deploy_status) VALUES ('demo', 'succeeded', 'api', 'trigger', 'refs/heads/main', ?, '2026-01-01T00:00:00.000Z', 'skipped')`).run('a'.repeat(40))
  old.close()
  const store = new BuildStore(dir)
  t.teardown(() => store.close())
  t.equal(sqlite(t, store).pragma('user_version', { simple: true }), SCHEMA_VERSION)
  t.match(store.get(1), { status: 'succeeded', supersededBy: null, trigger: { commit: 'a'.repeat(40) } })
  t.match(store.record(trigger('b', 'x')), { build: { id: 2 }, duplicate: false }, 'and the new tables work')
})

t.test('migration 4: builds that had started before it built their pushed commit; queued ones have not started', async t => {
  const dir = tempDir(t)
  const { MIGRATIONS } = await import('../../../lib/store/migrations.js')
  const old = new Database(path.join(dir, DATABASE_FILE))
  for (const step of MIGRATIONS.slice(0, 3)) step(old)
  old.pragma('user_version = 3')
  const insert = old.prepare(`INSERT INTO builds (project, status, source, event, ref, commit_sha, created_at, started_at, deploy_status) VALUES ('demo', ?, 'github', 'push', 'refs/heads/main', ?, '2026-01-01T00:00:00.000Z', ?, 'skipped')`)
  insert.run('succeeded', 'a'.repeat(40), '2026-01-01T00:00:01.000Z')
  insert.run('queued', 'b'.repeat(40), null)
  old.close()
  const store = new BuildStore(dir)
  t.teardown(() => store.close())
  t.match(store.get(1), { status: 'succeeded', commit: 'a'.repeat(40), commitReason: null })
  t.match(store.get(2), { status: 'queued', commit: null, commitReason: null })
  t.equal(store.start(2), true)
  t.match(store.get(2), { status: 'running', commit: 'b'.repeat(40) }, 'starting without a head check builds the pushed commit')
  t.equal(store.start(2), false, 'a running build does not start again')
})

/** A build of `commit` that pushed both images (digests named after the commit) and deployed with `status`. */
function deployedBuild (store: BuildStore, commit: string, status: 'succeeded' | 'failed' = 'succeeded', at = new Date()): number {
  const { build } = store.record(trigger(commit))
  store.start(build.id)
  build.images.forEach((image, position) => store.updateImage(build.id, position, { status: 'succeeded', digest: digestOf(commit, position) }))
  store.setDeploy(build.id, { status, error: null, strategy: 'digest' })
  store.recordDeploy(build.id, { strategy: 'digest', status, commit: build.trigger.commit }, at)
  store.finish(build.id, 'succeeded', null)
  return build.id
}

function digestOf (commit: string, position: number): string {
  return `sha256:${commit.repeat(63)}${position}`
}

t.test('the deploy history: what each project runs now, by which build, and what went before', async t => {
  const store = new BuildStore(tempDir(t))
  t.teardown(() => store.close())
  t.equal(store.deploys.current('demo'), null, 'nothing deployed yet')
  t.equal(store.deploys.previous('demo'), null)
  const first = deployedBuild(store, 'a', 'succeeded', new Date('2026-11-25T10:00:00.000Z'))
  t.same(store.deploys.current('demo'), {
    build: first,
    commit: 'a'.repeat(40),
    strategy: 'digest',
    status: 'succeeded',
    rollbackOf: null,
    at: '2026-11-25T10:00:00.000Z',
    digests: { 'registry.test/demo/web': digestOf('a', 0), 'registry.test/demo/api': digestOf('a', 1) }
  })
  t.match(store.get(first)!.deploy, { strategy: 'digest', deployedAt: '2026-11-25T10:00:00.000Z' }, 'the build record says when it deployed')
  t.equal(store.deploys.previous('demo'), null, 'one deploy: nothing before it')
  const second = deployedBuild(store, 'b')
  t.match(store.deploys.previous('demo'), { build: first })
  const failed = deployedBuild(store, 'c', 'failed')
  t.match(store.deploys.current('demo'), { build: failed, status: 'failed' }, 'a rollout that failed still changed the workloads: it is what they run')
  t.match(store.deploys.previous('demo'), { build: second }, 'going back from a failed rollout goes to the last good one')
  const other = store.record(trigger('d', null, 'other')).build
  t.same([...store.deploys.all().keys()], ['demo'], 'only projects that deployed')
  t.equal(store.deploys.current('other'), null)
  t.equal(store.get(other.id)!.deploy.deployedAt, null)
  store.recordDeploy(failed, { strategy: 'digest', status: 'succeeded', commit: 'c'.repeat(40) })
  t.match(store.deploys.current('demo'), { build: failed, status: 'succeeded', commit: 'c'.repeat(40) }, 'recording a build again (a later attempt) updates its entry, it adds none')
})

t.test('the deploy before the current one skips deploys of the same digests: two rollbacks in a row go back and forth', async t => {
  const store = new BuildStore(tempDir(t))
  t.teardown(() => store.close())
  const a = deployedBuild(store, 'a')
  deployedBuild(store, 'b')
  deployedBuild(store, 'b') // the same commit again, the same digests: going back means going to a
  t.match(store.deploys.previous('demo'), { build: a })
})

t.test('a rollback is never a duplicate of a build of its commit, nor is a push of its commit a duplicate of it; its digests stay through a retry', async t => {
  const store = new BuildStore(tempDir(t))
  t.teardown(() => store.close())
  const old = deployedBuild(store, 'a')
  const running = store.record(trigger('a')).build // the same commit again, running
  store.start(running.id)
  const rollback: NewBuild = {
    ...trigger('a'),
    trigger: { ...trigger('a').trigger, source: 'rollback', event: 'rollback' },
    images: store.get(old)!.images.map(image => ({ image: image.image, tags: ['latest'], digest: image.digest! })),
    rollbackOf: old
  }
  const recorded = store.record(rollback)
  t.match(recorded, { duplicate: false, build: { status: 'queued', rollbackOf: old, images: [{ digest: digestOf('a', 0), status: 'pending' }, { digest: digestOf('a', 1) }] } })
  t.match(store.record(trigger('a')), { duplicate: false, superseded: [recorded.build.id] }, 'a push of that commit is built, and replaces the queued rollback')
  const again = store.record(rollback).build
  t.equal(store.nextQueued([], 'rollback')?.id, again.id, 'a queued rollback runs without the builder')
  store.start(again.id)
  t.equal(store.requeue(again.id, { reason: 'builder-connection-lost', error: 'lost' }), 'queued')
  t.match(store.get(again.id)!.images, [{ status: 'pending', digest: digestOf('a', 0) }, { digest: digestOf('a', 1) }], 'queued again, it still knows what to deploy')
  store.start(again.id)
  store.recover(3)
  t.match(store.get(again.id), { status: 'queued', attempt: 3, images: [{ digest: digestOf('a', 0) }] }, 'so it does after a crash')
  t.equal(store.nextQueued([], 'rollback')?.id, again.id)
  store.finish(again.id, 'cancelled', 'x')
  t.equal(store.nextQueued([], 'rollback'), null, 'builds wait for the builder')
  t.equal(store.nextQueued([])?.id, undefined)
})

t.test('retention keeps the builds of the latest deploys, for rollbacks, and a bounded deploy history', async t => {
  const store = new BuildStore(tempDir(t))
  t.teardown(() => store.close())
  const deployed = deployedBuild(store, 'a')
  for (const commit of 'bcdef') { const { build } = store.record(trigger(commit)); store.start(build.id); store.finish(build.id, 'failed', 'x') }
  t.same(store.prune('demo', 2), [2, 3, 4], 'build 1 is older than the newest 2, and stays: it is deployed')
  t.match(store.get(deployed), { status: 'succeeded' })
  for (let i = 0; i < DEPLOY_HISTORY + DEPLOYS_KEPT_FOR_ROLLBACK; i++) deployedBuild(store, 'a')
  store.prune('demo', 1)
  const db = sqlite(t, store)
  t.equal((db.prepare(`SELECT count(*) AS n FROM deploys WHERE project = 'demo'`).get() as { n: number }).n, DEPLOY_HISTORY)
  t.equal((db.prepare(`SELECT count(*) AS n FROM builds WHERE project = 'demo'`).get() as { n: number }).n, DEPLOYS_KEPT_FOR_ROLLBACK, 'the builds of the latest deploys stay (the newest of them the one kept)')
})

t.test('retention keeps the last good deploy\'s build however many failed rollouts came after it', async t => {
  const store = new BuildStore(tempDir(t))
  t.teardown(() => store.close())
  const good = deployedBuild(store, 'a')
  deployedBuild(store, 'b')
  for (let i = 0; i < DEPLOYS_KEPT_FOR_ROLLBACK + 2; i++) deployedBuild(store, 'c', 'failed')
  t.match(store.deploys.previous('demo'), { build: 2 })
  store.prune('demo', 1)
  t.ok(store.get(2), 'what a rollback goes back to is kept')
  t.equal(store.get(good), null, 'older ones go')
})
