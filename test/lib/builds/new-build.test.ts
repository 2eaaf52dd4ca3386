import t from 'tap'
import { BuildRequests } from '../../../lib/builds/build-requests.js'
import { newBuild, rollbackBuild } from '../../../lib/builds/new-build.js'
import type { BuildRecord } from '../../../lib/schemas/build.js'
import { parseConfig } from '../../../lib/config/index.js'
import { BuildStore } from '../../../lib/store/build-store.js'
import { configToml, sqlite, tempDir } from '../../helper.js'

// What a rollback records (lib/builds/new-build.ts rollbackBuild, BuildRequests.rollback), against the project
// as configured now.

const deployments = (strategy: string) => `[projects.deployments]\nnamespace = "demo"\nresources = ["deployment/web"]\nstrategy = "${strategy}"\n`
const project = (extra = deployments('restart'), images = ['web', 'api']) => parseConfig(configToml([{ slug: 'demo', images, extra }]), 'test.toml').projects[0]!
const DIGEST = `sha256:${'1'.repeat(64)}`

/** A finished build of the project as it was: `images` pushed (a digest each) or failed (null). */
function pushed (images: Record<string, string | null>): BuildRecord {
  const store = new BuildStore(tempDir(t))
  const names = Object.keys(images).map(name => name.replace('registry.test/demo/', ''))
  const { build } = store.record(newBuild(project(undefined, names), { source: 'api', event: 'trigger', delivery: null, ref: 'refs/heads/main', commit: 'a'.repeat(40), sender: null }))
  store.start(build.id)
  Object.values(images).forEach((digest, position) => store.updateImage(build.id, position, digest === null ? { status: 'failed', error: 'x' } : { status: 'succeeded', digest }))
  store.finish(build.id, 'failed', null)
  const record = store.get(build.id)!
  store.close()
  return record
}

t.test('with restart, each image carries its digest and the tag configured now, the one pointed back', async t => {
  const target = pushed({ 'registry.test/demo/web': DIGEST, 'registry.test/demo/api': DIGEST })
  const result = rollbackBuild(project(), target)
  t.match(result, {
    build: {
      project: 'demo',
      rollbackOf: target.id,
      trigger: { source: 'rollback', event: 'rollback', delivery: null, ref: 'refs/heads/main', commit: 'a'.repeat(40), sender: null },
      images: [{ image: 'registry.test/demo/web', tags: ['latest'], digest: DIGEST }, { image: 'registry.test/demo/api', tags: ['latest'], digest: DIGEST }],
      deploy: { status: 'pending', namespace: 'demo', resources: ['deployment/web'] }
    }
  })
})

t.test('with digest no tag moves; without deployments the tags move and nothing deploys', async t => {
  const target = pushed({ 'registry.test/demo/web': DIGEST, 'registry.test/demo/api': DIGEST })
  t.match(rollbackBuild(project(deployments('digest')), target), { build: { images: [{ tags: [] }, { tags: [] }] } })
  t.match(rollbackBuild(project(''), target), { build: { images: [{ tags: ['latest'] }, { tags: ['latest'] }], deploy: { status: 'skipped', namespace: null, resources: [] } } })
})

t.test('refused: a build that did not push every image, or pushed images the project no longer builds', async t => {
  const partial = pushed({ 'registry.test/demo/web': DIGEST, 'registry.test/demo/api': null })
  t.same(rollbackBuild(project(), partial), { refused: `Build ${partial.id} has no pushed digest for registry.test/demo/api: only a build that pushed all its images can be rolled back to` })
  const target = pushed({ 'registry.test/demo/web': DIGEST, 'registry.test/demo/api': DIGEST })
  t.same(rollbackBuild(project(undefined, ['web']), target), { refused: `Build ${target.id} pushed registry.test/demo/api, which is no longer one of the images of project demo` })
  t.same(rollbackBuild(project(undefined, ['site']), target), { refused: `Build ${target.id} pushed registry.test/demo/web, registry.test/demo/api, which are no longer one of the images of project demo` })
})

t.test('without a build, a rollback whose earlier deploy is no longer kept asks for a build', async t => {
  const store = new BuildStore(tempDir(t))
  t.teardown(() => store.close())
  const demo = project()
  for (const commit of ['a', 'b']) {
    const { build } = store.record(newBuild(demo, { source: 'api', event: 'trigger', delivery: null, ref: 'refs/heads/main', commit: commit.repeat(40), sender: null }))
    store.start(build.id)
    store.updateImage(build.id, 0, { status: 'succeeded', digest: `sha256:${commit.repeat(64)}` })
    store.recordDeploy(build.id, { strategy: 'restart', status: 'succeeded', commit: commit.repeat(40) })
    store.finish(build.id, 'succeeded', null)
  }
  sqlite(t, store).prepare('DELETE FROM builds WHERE id = 1').run()
  const queue = new BuildRequests({ store, resolveCommit: async () => 'c'.repeat(40), onRecorded: () => {}, interrupt: () => false })
  t.same(await queue.rollback(demo), { outcome: 'refused', message: 'Build 1, deployed before the current one, is no longer kept: name a build' })
})
