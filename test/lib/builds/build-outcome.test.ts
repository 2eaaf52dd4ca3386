import t from 'tap'
import { BuildInterrupted, buildOutcome, type ImageOutcome } from '../../../lib/builds/build-outcome.js'
import type { ImageBuildResult } from '../../../lib/buildx/image-build.js'

const ok: ImageBuildResult = { status: 'succeeded', digest: `sha256:${'1'.repeat(64)}`, durationMs: 10, error: null, reason: null }
const cancelled: ImageBuildResult = { status: 'cancelled', digest: null, durationMs: 10, error: 'cancelled: web failed', reason: 'cancelled' }
const failed = (reason: ImageBuildResult['reason'], error: string): ImageBuildResult => ({ status: 'failed', digest: null, durationMs: 10, error, reason })
const running = new AbortController().signal

t.test('every image pushed: succeeded', async t => {
  t.same(buildOutcome([{ name: 'web', result: ok }], null, running, 1, 3), { status: 'succeeded', error: null })
})

t.test('interrupted with no image failing: the interruption, as the scheduler or the log gave it', async t => {
  t.same(buildOutcome([{ name: 'web', result: cancelled }], null, AbortSignal.abort(new BuildInterrupted('failed', 'timed out after 1 s', 'timed-out')), 1, 3),
    { status: 'failed', error: 'timed out after 1 s' })
  t.same(buildOutcome([], null, AbortSignal.abort(new BuildInterrupted('cancelled', 'cancelled through the API')), 1, 3), { status: 'cancelled', error: 'cancelled through the API' })
  t.equal(new BuildInterrupted('failed', 'x').reason, 'timed-out', 'a failing interruption is a timeout unless it says otherwise')
  t.equal(new BuildInterrupted('cancelled', 'x').reason, 'cancelled')
})

t.test('the image that failed first is the error, naming how many others failed on their own', async t => {
  const images: ImageOutcome[] = [
    { name: 'web', result: failed('step-failed', 'build step failed') },
    { name: 'api', result: failed('push-denied', 'the registry refused') },
    { name: 'worker', result: cancelled }
  ]
  const stop = AbortSignal.abort(new BuildInterrupted('cancelled', 'cancelled: api failed'))
  t.same(buildOutcome(images, 1, stop, 1, 3), { status: 'failed', error: 'api: the registry refused (and 1 more image failed)' })
  images[2] = { name: 'worker', result: failed('step-failed', 'x') }
  t.same(buildOutcome(images, 0, stop, 1, 3), { status: 'failed', error: 'web: build step failed (and 2 more images failed)' })
})

t.test('BuildKit lost or unreachable: another attempt, until the last one says it gave up', async t => {
  const images = [{ name: 'web', result: failed('builder-connection-lost', 'the connection to BuildKit was lost') }, { name: 'api', result: cancelled }]
  const stop = AbortSignal.abort(new BuildInterrupted('cancelled', 'cancelled: web failed'))
  t.same(buildOutcome(images, 0, stop, 1, 3), {
    status: 'failed',
    error: 'web: the connection to BuildKit was lost',
    retry: { reason: 'builder-connection-lost', error: 'web: the connection to BuildKit was lost' }
  })
  t.same(buildOutcome(images, 0, stop, 2, 3).retry, { reason: 'builder-connection-lost', error: 'web: the connection to BuildKit was lost' })
  t.same(buildOutcome(images, 0, stop, 3, 3), { status: 'failed', error: 'web: the connection to BuildKit was lost; gave up after 3 attempts (BuildKit was unavailable each time)' })
  t.same(buildOutcome([{ name: 'web', result: failed('builder-unreachable', 'BuildKit is unreachable') }], 0, running, 1, 1),
    { status: 'failed', error: 'web: BuildKit is unreachable; gave up after 1 attempt (BuildKit was unavailable each time)' })
})

t.test('a user\'s failure is never retried, whatever a sibling ran into', async t => {
  const images = [{ name: 'web', result: failed('step-failed', 'build step failed') }, { name: 'api', result: failed('builder-connection-lost', 'lost') }]
  t.same(buildOutcome(images, 0, running, 1, 3), { status: 'failed', error: 'web: build step failed (and 1 more image failed)' })
})
