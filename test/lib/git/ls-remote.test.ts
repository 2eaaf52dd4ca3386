import http from 'node:http'
import t from 'tap'
import { gitAuthEnv, resolveBranch } from '../../../lib/git/ls-remote.js'
import { Redactor } from '../../../lib/secrets/redactor.js'
import { closedEndpoint } from '../../fixtures/docker.js'
import { startGitServer } from '../../fixtures/git-server.js'
import { tempDir } from '../../helper.js'

const TOKEN = 'glpat-0123456789abcdefghij'
const base = (t: Parameters<typeof tempDir>[0]) => ({ env: { PATH: process.env.PATH!, HOME: tempDir(t) }, redactor: new Redactor([TOKEN]), token: null })

t.test('resolves the head of each branch to its full SHA', async t => {
  const git = await startGitServer(t, tempDir(t))
  t.equal(await resolveBranch({ ...base(t), url: git.url, branch: 'main' }), git.heads.main)
  t.equal(await resolveBranch({ ...base(t), url: git.url, branch: 'develop' }), git.heads.develop)
})

t.test('a missing branch says which branch and where', async t => {
  const git = await startGitServer(t, tempDir(t))
  await t.rejects(resolveBranch({ ...base(t), url: git.url, branch: 'nope' }), { code: 'BH_GIT_REF_NOT_FOUND', message: `branch 'nope' was not found in ${git.url}` })
})

t.test('a private repository takes the token as HTTP Basic credentials from the environment', async t => {
  const git = await startGitServer(t, tempDir(t), { token: TOKEN })
  t.equal(await resolveBranch({ ...base(t), url: git.url, branch: 'main', token: TOKEN }), git.heads.main)
  await t.rejects(resolveBranch({ ...base(t), url: git.url, branch: 'main' }), { code: 'BH_GIT_AUTH', message: `${git.url} requires authentication (set GIT_TOKEN)` })
  const refused = await resolveBranch({ ...base(t), url: git.url, branch: 'main', token: 'wrong-token-value' }).catch((err: Error) => err)
  t.match(refused, { code: 'BH_GIT_AUTH', message: `${git.url} requires authentication and refused GIT_TOKEN` })
  t.notMatch(String((refused as Error).message), 'wrong-token-value')
})

t.test('the token lives in git config variables of the environment, never in argv or the URL', async t => {
  t.same(gitAuthEnv(null), { GIT_TERMINAL_PROMPT: '0', GIT_CONFIG_NOSYSTEM: '1' })
  t.same(gitAuthEnv(TOKEN), {
    GIT_TERMINAL_PROMPT: '0',
    GIT_CONFIG_NOSYSTEM: '1',
    GIT_CONFIG_COUNT: '1',
    GIT_CONFIG_KEY_0: 'http.extraHeader',
    GIT_CONFIG_VALUE_0: `Authorization: Basic ${Buffer.from(`x-access-token:${TOKEN}`).toString('base64')}`
  })
})

t.test('an unreachable repository names the URL and git\'s reason', async t => {
  const port = new URL(await closedEndpoint()).port
  const url = `http://127.0.0.1:${port}/app.git`
  await t.rejects(resolveBranch({ ...base(t), url, branch: 'main' }), { code: 'BH_GIT_UNREACHABLE', message: new RegExp(`^cannot read ${url}: unable to access '${url}/': .*`) })
})

t.test('a server that never answers times out', async t => {
  const server = http.createServer(() => {})
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
  t.teardown(() => new Promise<void>(resolve => { server.closeAllConnections(); server.close(() => resolve()) }))
  const url = `http://127.0.0.1:${(server.address() as { port: number }).port}/app.git`
  await t.rejects(resolveBranch({ ...base(t), url, branch: 'main', timeoutMs: 300 }), { code: 'BH_GIT_UNREACHABLE', message: `git ls-remote ${url} timed out` })
})

t.test('without git on PATH', async t => {
  await t.rejects(resolveBranch({ ...base(t), env: { PATH: '/nonexistent' }, url: 'https://git.test/a', branch: 'main' }), { code: 'BH_GIT_MISSING', message: "git is not installed: no 'git' executable on PATH" })
})
