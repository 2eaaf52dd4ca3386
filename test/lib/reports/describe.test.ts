import t from 'tap'
import type { BuildRecord, ImageResult } from '../../../lib/schemas/build.js'
import { MAX_DESCRIPTION, notBuilt, summarise } from '../../../lib/reports/describe.js'
import { buildRecord, imageResult } from '../../fixtures/build-record.js'

const DIGEST = `sha256:${'1a2b3c4d5e6f'.repeat(5)}abcd`
const REPOSITORIES = new Map([['registry.test/app/web', 'app/web'], ['registry.test/app/api', 'app/api']])

const image = (name: string, patch: Partial<ImageResult> = {}): ImageResult => imageResult(`registry.test/app/${name}`, patch)
const build = (patch: Partial<BuildRecord> = {}): BuildRecord => buildRecord({ images: [image('web'), image('api')], ...patch })

const pushed = [image('web', { status: 'succeeded', digest: DIGEST }), image('api', { status: 'succeeded', digest: DIGEST })]

t.test('a queued build is pending; queued again after BuildKit went away, it says why', async t => {
  t.same(summarise(build(), REPOSITORIES), { state: 'pending', description: 'Queued as build #7' })
  t.same(summarise(build({ attempt: 2, retry: { attempt: 1, reason: 'builder-connection-lost', error: 'the connection to BuildKit was lost\nmore', at: 'x' } }), REPOSITORIES),
    { state: 'pending', description: 'Queued again for attempt 2: the connection to BuildKit was lost' })
})

t.test('a running build names its images; a running rollback the build it goes back to', async t => {
  t.same(summarise(build({ status: 'running' }), REPOSITORIES), { state: 'running', description: 'Building app/web, app/api (build #7)' })
  t.same(summarise(build({ status: 'running', rollbackOf: 3 }), REPOSITORIES), { state: 'running', description: 'Rolling back to build #3 (build #7)' })
  t.same(summarise(build({ status: 'running', images: [{ ...image('web'), image: 'other.test/x' }] }), REPOSITORIES).description, 'Building other.test/x (build #7)', 'an image not in the config by its full name')
})

t.test('a succeeded build says what it deployed where, or what it pushed and why it did not deploy', async t => {
  t.same(summarise(build({ status: 'succeeded', images: pushed, deploy: { ...build().deploy, status: 'succeeded' } }), REPOSITORIES),
    { state: 'success', description: 'Deployed app/web@sha256:1a2b3c4d5e6f…, app/api@sha256:1a2b3c4d5e6f… to app' })
  t.same(summarise(build({ status: 'succeeded', images: pushed, deploy: { ...build().deploy, status: 'skipped', reason: 'build #9 deployed a newer commit\nx' } }), REPOSITORIES),
    { state: 'success', description: 'Pushed app/web@sha256:1a2b3c4d5e6f…, app/api@sha256:1a2b3c4d5e6f…; not deployed: build #9 deployed a newer commit' })
  t.same(summarise(build({ status: 'succeeded', images: [pushed[0]!, image('api', { status: 'succeeded' })], deploy: { ...build().deploy, status: 'skipped', namespace: null } }), REPOSITORIES),
    { state: 'success', description: 'Pushed app/web@sha256:1a2b3c4d5e6f…, app/api' })
})

t.test('a failed build is a failure when the commit\'s build or deploy failed, an error when something else did', async t => {
  const failedImage = (reason: ImageResult['reason']): BuildRecord => build({ status: 'failed', error: 'app/web: it failed\nsecond line', images: [image('web', { status: 'failed', reason }), image('api', { status: 'cancelled', reason: 'cancelled' })] })
  t.same(summarise(failedImage('step-failed'), REPOSITORIES), { state: 'failure', description: 'app/web: it failed' })
  t.same(summarise(failedImage('dockerfile-not-found'), REPOSITORIES).state, 'failure')
  t.same(summarise(failedImage('builder-unreachable'), REPOSITORIES).state, 'error')
  t.same(summarise(failedImage('push-denied'), REPOSITORIES).state, 'error')
  t.same(summarise(failedImage(null), REPOSITORIES).state, 'error', 'the service stopped during it')
  t.same(summarise(build({ status: 'failed', error: 'deployment/web: rollout failed', images: pushed, deploy: { ...build().deploy, status: 'failed' } }), REPOSITORIES).state, 'failure')
  t.same(summarise(build({ status: 'failed', error: "project 'app' is no longer in the configuration" }), REPOSITORIES).state, 'error')
  t.same(summarise(build({ status: 'failed', error: 'the build ran past 60 s', images: [image('web', { status: 'cancelled', reason: 'timed-out' })] }), REPOSITORIES).state, 'failure', 'a build past its timeout')
})

t.test('cancelled and superseded builds end as cancelled, so that no commit stays pending', async t => {
  t.same(summarise(build({ status: 'cancelled', error: 'cancelled through the API' }), REPOSITORIES), { state: 'cancelled', description: 'Cancelled through the API' })
  t.same(summarise(build({ status: 'cancelled', error: 'the service shut down' }), REPOSITORIES), { state: 'cancelled', description: 'Cancelled: the service shut down' })
  t.same(summarise(build({ status: 'cancelled' }), REPOSITORIES), { state: 'cancelled', description: 'Cancelled' })
  t.same(summarise(build({ status: 'superseded', supersededBy: 9 }), REPOSITORIES), { state: 'cancelled', description: 'Not built: superseded by build #9 of a newer push' })
  t.same(notBuilt(build({ status: 'running', commit: 'b'.repeat(40) })), { state: 'cancelled', description: 'Not built: the branch had moved on to bbbbbbbbbbbb, which build #7 builds' })
})

t.test('a description is cut to 140 characters, the shortest limit of the hosts', async t => {
  const { description } = summarise(build({ status: 'failed', error: 'x'.repeat(300) }), REPOSITORIES)
  t.equal(description.length, MAX_DESCRIPTION)
  t.equal(description, `${'x'.repeat(139)}…`)
  const emoji = summarise(build({ status: 'failed', error: `${'x'.repeat(138)}😀 and more` }), REPOSITORIES).description
  t.equal(emoji, `${'x'.repeat(138)}…`, 'an emoji is not cut in half')
})
