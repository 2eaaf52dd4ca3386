import http from 'node:http'
import t from 'tap'
import { gitAuthEnv, resolveBranch } from '../../../lib/git/ls-remote.js'
import { Redactor } from '../../../lib/secrets/redactor.js'
import { closedEndpoint } from '../../fixtures/docker.js'
import { startGitServer } from '../../fixtures/git-server.js'
import { tempDir } from '../../helper.js'

const TOKEN = 'glpat-0123456789abcdefghij'
const base = (t: Parameters<typeof tempDir>[0]) => ({ env: { PATH: process.env.PATH!, HOME: tempDir(t) }, redactor: new Redactor([TOKEN]), credential: null })

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
  const host = new URL(git.url).host
  t.equal(await resolveBranch({ ...base(t), url: git.url, branch: 'main', credential: { host, token: TOKEN } }), git.heads.main)
  await t.rejects(resolveBranch({ ...base(t), url: git.url, branch: 'main' }), { code: 'BH_GIT_AUTH', message: `${git.url} requires authentication (set [projects.code] token_env, or GIT_TOKEN with the host in GIT_TOKEN_HOSTS)` })
  const refused = await resolveBranch({ ...base(t), url: git.url, branch: 'main', credential: { host, token: 'wrong-token-value' } }).catch((err: Error) => err)
  t.match(refused, { code: 'BH_GIT_AUTH', message: `${git.url} requires authentication and refused the project's Git token` })
  t.notMatch(String((refused as Error).message), 'wrong-token-value')
  const sent = git.authorizations.filter(value => value !== null).map(value => Buffer.from(value.replace(/^Basic /, ''), 'base64').toString())
  t.same([...new Set(sent)], [`x-access-token:${TOKEN}`, 'x-access-token:wrong-token-value'], 'the server saw the token, then the wrong one, and nothing else')
})

t.test('the token lives in git config variables of the environment, for its own host only, never in argv or the URL', async t => {
  t.same(gitAuthEnv('https://git.test/a', null), { GIT_TERMINAL_PROMPT: '0', GIT_CONFIG_NOSYSTEM: '1' })
  t.same(gitAuthEnv('HTTPS://Git.Test:8443/a', { host: 'Git.Test:8443', token: TOKEN }), {
    GIT_TERMINAL_PROMPT: '0',
    GIT_CONFIG_NOSYSTEM: '1',
    GIT_CONFIG_COUNT: '1',
    GIT_CONFIG_KEY_0: 'http.https://Git.Test:8443/.extraHeader',
    GIT_CONFIG_VALUE_0: `Authorization: Basic ${Buffer.from(`x-access-token:${TOKEN}`).toString('base64')}`
  })
})

t.test('a credential for another host is never sent, not even to a host that asks for one', async t => {
  const git = await startGitServer(t, tempDir(t), { token: TOKEN })
  await t.rejects(resolveBranch({ ...base(t), url: git.url, branch: 'main', credential: { host: '127.0.0.2:1', token: TOKEN } }), { code: 'BH_GIT_AUTH' })
  t.ok(git.authorizations.length > 0, 'git asked the server')
  t.same(git.authorizations.filter(value => value !== null), [], 'and sent no Authorization header')
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
