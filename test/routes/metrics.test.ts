import { writeFileSync } from 'node:fs'
import path from 'node:path'
import t from 'tap'
import { builderReady, buildIn, configToml, eventually, finished, harness, TOKENS, tempDir, writeConfig } from '../helper.js'
import { deliver, HOST_REPOSITORY, pushPayload } from '../fixtures/webhooks/deliveries.js'
import { BuildStore } from '../../lib/store/build-store.js'

const auth = { authorization: `Bearer ${TOKENS[0]}` }
const commit = (n: number) => n.toString(16).padStart(40, '0')

// The text exposition format: HELP and TYPE comments, then samples `name{labels} value`.
const COMMENT = /^# (HELP|TYPE) [a-zA-Z_:][a-zA-Z0-9_:]* .+$/
const SAMPLE = /^[a-zA-Z_:][a-zA-Z0-9_:]*(\{[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\n]|\\["\\n])*"(,[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\n]|\\["\\n])*")*\})? (-?[0-9.e+-]+|NaN|\+Inf|-Inf)( -?\d+)?$/

/** Every sample of the scrape, by name and labels, e.g. values['build_hook_builds_total{project="demo",status="failed"}']. */
function samples (text: string): Map<string, number> {
  return new Map(text.split('\n').filter(line => line !== '' && !line.startsWith('#')).map(line => {
    const space = line.lastIndexOf(' ')
    return [line.slice(0, space), Number(line.slice(space + 1))]
  }))
}

t.test('GET /metrics: exact values after a scripted sequence of builds and deliveries, in valid exposition format', async t => {
  const gate = path.join(tempDir(t), 'release')
  const secret = 'metrics-test-webhook-secret'
  const toml = configToml([
    { slug: 'demo' },
    { slug: 'other', url: HOST_REPOSITORY.github, images: ['web', 'api'], extra: '[projects.webhook]\nsecret_env = "OTHER_SECRET"\n' }
  ])
  const { app, docker } = await harness(t, { CONFIG_PATH: writeConfig(t, toml), OTHER_SECRET: secret })
  const failGate = path.join(tempDir(t), 'fail')
  // other/api fails only once other/web is pushed: a failing image cancels the siblings still building.
  docker.control({ images: { 'registry.test/demo/web': { waitForFile: gate }, 'registry.test/other/api': { fail: 'step', waitForFile: failGate } } })
  const scrape = async () => {
    const res = await app.inject({ method: 'GET', url: '/metrics' })
    t.equal(res.statusCode, 200)
    t.match(res.headers['content-type'], /^text\/plain; version=0\.0\.4; charset=utf-8$/)
    return res.body
  }
  const before = samples(await scrape())
  t.equal(before.get('build_hook_builder_ready'), 0, 'not bootstrapped yet')
  await builderReady(app)

  const trigger = (sha: string) => app.inject({ method: 'POST', url: '/demo', headers: auth, payload: { commit: sha } })
  t.equal((await trigger(commit(1))).statusCode, 202) // runs, held
  await eventually(() => docker.calls().some(call => call.event === 'waiting') || undefined, 'build 1 to hold')
  t.equal((await trigger(commit(1))).statusCode, 200) // duplicate
  t.equal((await trigger(commit(2))).statusCode, 202) // queued
  t.equal((await trigger(commit(3))).statusCode, 202) // supersedes 2
  const during = samples(await scrape())
  t.same([during.get('build_hook_queue_depth{project="demo"}'), during.get('build_hook_builds_running{project="demo"}'), during.get('build_hook_queue_depth{project="other"}')], [1, 1, 0])
  t.equal((await app.inject({ method: 'POST', url: '/builds/3/cancel', headers: auth })).statusCode, 202)
  writeFileSync(gate, '')
  await finished(app, 1)
  t.equal((await app.inject({ method: 'POST', url: '/demo' })).statusCode, 401) // no token
  t.equal((await app.inject({ method: 'POST', url: '/demo', headers: auth, payload: { commit: 'xyz' } })).statusCode, 400)
  const signed = (options: Parameters<typeof pushPayload>[1]) => {
    const delivery = deliver('github', pushPayload('github', options), secret)
    return app.inject({ method: 'POST', url: '/other', headers: delivery.headers, payload: delivery.body })
  }
  t.equal((await signed({ commit: commit(4) })).statusCode, 202) // fails: other/api's step fails
  t.equal((await signed({ ref: 'develop' })).statusCode, 200) // ignored
  const forged = deliver('github', pushPayload('github'), 'wrong')
  t.equal((await app.inject({ method: 'POST', url: '/other', headers: forged.headers, payload: forged.body })).statusCode, 401)
  await eventually(() => app.store.get(4)!.images[0]!.status === 'succeeded' || undefined, 'other/web to be pushed')
  writeFileSync(failGate, '')
  await buildIn(app, 4, ['failed'])
  await eventually(() => app.store.countByProject('running').size === 0 || undefined, 'nothing running')

  const text = await scrape()
  for (const line of text.split('\n').filter(Boolean)) t.ok(COMMENT.test(line) || SAMPLE.test(line), line)
  const after = samples(text)
  const expected: Record<string, number> = {
    'build_hook_builds_total{project="demo",status="succeeded"}': 1,
    'build_hook_builds_total{project="demo",status="superseded"}': 1,
    'build_hook_builds_total{project="demo",status="cancelled"}': 1,
    'build_hook_builds_total{project="demo",status="failed"}': 0,
    'build_hook_builds_total{project="other",status="failed"}': 1,
    'build_hook_builds_total{project="other",status="succeeded"}': 0,
    'build_hook_build_duration_seconds_count{project="demo",status="succeeded"}': 1,
    'build_hook_build_duration_seconds_count{project="other",status="failed"}': 1,
    'build_hook_image_build_duration_seconds_count{project="demo",repository="demo/web",status="succeeded"}': 1,
    'build_hook_image_build_duration_seconds_count{project="other",repository="other/web",status="succeeded"}': 1,
    'build_hook_image_build_duration_seconds_count{project="other",repository="other/api",status="failed"}': 1,
    'build_hook_queue_depth{project="demo"}': 0,
    'build_hook_builds_running{project="demo"}': 0,
    build_hook_builder_ready: 1,
    'build_hook_webhook_deliveries_total{source="api",outcome="accepted"}': 3,
    'build_hook_webhook_deliveries_total{source="api",outcome="duplicate"}': 1,
    'build_hook_webhook_deliveries_total{source="api",outcome="unauthorized"}': 1,
    'build_hook_webhook_deliveries_total{source="api",outcome="invalid"}': 1,
    'build_hook_webhook_deliveries_total{source="github",outcome="accepted"}': 1,
    'build_hook_webhook_deliveries_total{source="github",outcome="ignored"}': 1,
    'build_hook_webhook_deliveries_total{source="github",outcome="unauthorized"}': 1,
    'build_hook_webhook_deliveries_total{source="gitlab",outcome="accepted"}': 0
  }
  for (const [series, value] of Object.entries(expected)) t.equal(after.get(series), value, series)
  t.ok((after.get('process_resident_memory_bytes') ?? 0) > 0, 'default process metrics')
  t.notMatch(text, /project="(?!demo"|other")/, 'no project label value but the configured slugs')
})

t.test('/metrics needs no token and is not logged per scrape', async t => {
  const { app } = await harness(t)
  const res = await app.inject({ method: 'GET', url: '/metrics', headers: { authorization: 'Bearer wrong' } })
  t.equal(res.statusCode, 200)
})

t.test('builds that recovery fails or supersedes at start-up are counted', async t => {
  const dataDir = path.join(tempDir(t), 'data')
  const left = new BuildStore(dataDir)
  const build = (project: string, sha: string, attempt = 1) => left.record({
    project,
    trigger: { source: 'api', event: 'trigger', delivery: null, ref: 'refs/heads/main', commit: sha, sender: null },
    images: [{ image: `registry.test/${project}/web`, tags: ['latest'] }],
    deploy: { status: 'skipped', namespace: null, resources: [] },
    attempt
  }).build.id
  left.start(build('demo', commit(1), 3)) // died on its last attempt: failed
  left.start(build('other', commit(2))) // died on its first: queued again, behind a newer push
  build('other', commit(3)) // which supersedes it
  left.close()
  const { app } = await harness(t, { CONFIG_PATH: writeConfig(t, configToml([{ slug: 'demo' }, { slug: 'other' }])), DATA_DIR: dataDir })
  t.match(app.store.get(1), { status: 'failed' })
  t.match(app.store.get(2), { status: 'superseded' })
  const values = samples((await app.inject({ method: 'GET', url: '/metrics' })).body)
  t.equal(values.get('build_hook_builds_total{project="demo",status="failed"}'), 1)
  t.equal(values.get('build_hook_builds_total{project="other",status="superseded"}'), 1)
})
