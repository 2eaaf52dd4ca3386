import t from 'tap'
import { builderReady, finished, harness, MINIMAL_CONFIG, TOKENS, writeConfig } from '../helper.js'

const auth = { authorization: `Bearer ${TOKENS[0]}` }
const COMMIT = 'a'.repeat(40)

t.test('POST /:slug with a bearer token and a commit builds and pushes every image of the project', async t => {
  const { app, docker } = await harness(t, { CONFIG_PATH: writeConfig(t, MINIMAL_CONFIG) })
  await builderReady(app)
  const res = await app.inject({ method: 'POST', url: '/demo', headers: auth, payload: { commit: COMMIT } })
  t.equal(res.statusCode, 202)
  t.same(res.json(), { id: 1, project: 'demo', status: 'queued', commit: COMMIT, ref: 'refs/heads/main', url: '/builds/1' })
  const build = await finished(app, 1)
  t.equal(build.status, 'succeeded', build.error ?? '')
  t.match(build.images, [{ image: 'registry.test/demo/web', tags: ['latest', 'sha-aaaaaaaaaaaa'], status: 'succeeded', digest: /^sha256:[0-9a-f]{64}$/, error: null }])
  const pushed = docker.calls().find(call => call.event === 'built')
  t.equal(build.images[0]!.digest, pushed!.digest, 'the digest is the one buildx wrote to its metadata file')
})
