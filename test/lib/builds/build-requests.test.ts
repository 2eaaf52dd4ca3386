import t, { type Test } from 'tap'
import { BuildRequests } from '../../../lib/builds/build-requests.js'
import { parseConfig } from '../../../lib/config/index.js'
import { BuildHookError } from '../../../lib/errors.js'
import { BuildStore } from '../../../lib/store/build-store.js'
import { configToml, tempDir } from '../../helper.js'

const project = parseConfig(configToml([{ slug: 'demo', images: ['web'] }]), 'test.toml').projects[0]!

/** Requests over a real store, whose branch head is what `head` gives. */
function requests (t: Test, head: () => Promise<string>): { requests: BuildRequests, store: BuildStore } {
  const store = new BuildStore(tempDir(t))
  t.teardown(() => store.close())
  return { store, requests: new BuildRequests({ store, resolveCommit: head, onRecorded: () => {}, interrupt: () => false }) }
}

t.test('a trigger without a commit records the branch head, in lower case', async t => {
  const { requests: r, store } = requests(t, async () => 'AB'.repeat(20))
  const result = await r.trigger(project, { source: 'api', event: 'trigger' })
  t.match(result, { outcome: 'recorded', duplicate: false, build: { id: 1, status: 'queued', trigger: { commit: 'ab'.repeat(20) } } })
  t.equal(store.get(1)?.trigger.commit, 'ab'.repeat(20))
})

t.test('a branch head that git cannot resolve records nothing, and says whether git is missing here or the repository answered', async t => {
  for (const [code, missingGit] of [['BH_GIT_MISSING', true], ['BH_GIT_UNREACHABLE', false], ['BH_GIT_REF_NOT_FOUND', false], ['BH_GIT_AUTH', false]] as const) {
    const { requests: r, store } = requests(t, async () => { throw new BuildHookError(code, `${code}: the message`) })
    t.same(await r.trigger(project, { source: 'api', event: 'trigger' }), { outcome: 'head-unknown', missingGit, message: `${code}: the message` }, code)
    t.equal(store.get(1), null, `${code}: no build`)
  }
})

t.test('any other failure of the head lookup is thrown (a 500, logged)', async t => {
  const { requests: r } = requests(t, async () => { throw new BuildHookError('BH_STORE_UNAVAILABLE', 'not a git error') })
  await t.rejects(r.trigger(project, { source: 'api', event: 'trigger' }), { code: 'BH_STORE_UNAVAILABLE' })
  const { requests: plain } = requests(t, async () => { throw new TypeError('a bug') })
  await t.rejects(plain.trigger(project, { source: 'api', event: 'trigger' }), TypeError)
})
