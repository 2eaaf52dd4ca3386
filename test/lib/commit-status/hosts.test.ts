import t from 'tap'
import type { StatusProvider } from '../../../lib/config/schema.js'
import type { StatusSettings } from '../../../lib/config/settings.js'
import { bitbucket } from '../../../lib/commit-status/bitbucket.js'
import { forgejo } from '../../../lib/commit-status/forgejo.js'
import { gitea } from '../../../lib/commit-status/gitea.js'
import { github } from '../../../lib/commit-status/github.js'
import { gitlab } from '../../../lib/commit-status/gitlab.js'
import { STATUS_HOSTS, statusHost } from '../../../lib/commit-status/hosts.js'
import { COMMIT_STATES, type CommitStatus, type StatusHost } from '../../../lib/commit-status/types.js'

const SHA = '0123456789abcdef0123456789abcdef01234567'
const BUILD_PAGE = 'https://hook.example.test/ui/builds/42'

function settings (provider: StatusProvider, apiUrl: string, repository: string): StatusSettings {
  return { provider, apiUrl, repository, context: 'build-hook/web', tokenEnv: 'STATUS_TOKEN' }
}

function status (overrides: Partial<CommitStatus> = {}): CommitStatus {
  return { commit: SHA, state: 'success', description: 'Build 42 succeeded in 1m 3s', targetUrl: BUILD_PAGE, branch: 'main', codeUrl: 'https://code.example.test/acme/web', ...overrides }
}

function states (host: StatusHost): Record<string, string> {
  return Object.fromEntries(COMMIT_STATES.map(state => [state, host.state(state)]))
}

const JSON_HEADERS = { 'Content-Type': 'application/json', 'User-Agent': 'build-hook' }

const GITHUB = settings('github', 'https://api.github.com', 'octo-org/hello-world')
const GITHUB_HEADERS = { Accept: 'application/vnd.github+json', 'X-GitHub-Api-Version': '2022-11-28', ...JSON_HEADERS }

t.test('github: a status with a build page is posted to the commit with its link', async t => {
  t.strictSame(github.request(GITHUB, status()), {
    method: 'POST',
    url: `https://api.github.com/repos/octo-org/hello-world/statuses/${SHA}`,
    headers: GITHUB_HEADERS,
    body: `{"state":"success","target_url":"${BUILD_PAGE}","description":"Build 42 succeeded in 1m 3s","context":"build-hook/web"}`
  })
})

t.test('github: a status without a build page has no target_url', async t => {
  t.strictSame(github.request(GITHUB, status({ state: 'running', targetUrl: null })), {
    method: 'POST',
    url: `https://api.github.com/repos/octo-org/hello-world/statuses/${SHA}`,
    headers: GITHUB_HEADERS,
    body: '{"state":"pending","description":"Build 42 succeeded in 1m 3s","context":"build-hook/web"}'
  })
})

t.test('github: a failed build is a failure status, a running one pending and a cancelled one an error', async t => {
  t.strictSame(states(github), { pending: 'pending', running: 'pending', success: 'success', failure: 'failure', error: 'error', cancelled: 'error' })
  t.match(JSON.parse(github.request(GITHUB, status({ state: 'failure' })).body), { state: 'failure' })
  t.match(JSON.parse(github.request(GITHUB, status({ state: 'cancelled' })).body), { state: 'error' })
})

t.test('github: the token goes as a Bearer authorization, and no error answer means the status is already set', async t => {
  t.strictSame(github.authorization('ghp_secret'), { Authorization: 'Bearer ghp_secret' })
  t.equal(github.alreadySet(422, '{"message":"Validation Failed"}'), false)
})

t.test('github: an owner with a dot stays as it is, and each path segment is encoded on its own', async t => {
  t.equal(github.request(settings('github', 'https://api.github.com', 'my.org/hello.world'), status()).url, `https://api.github.com/repos/my.org/hello.world/statuses/${SHA}`)
  t.equal(github.request(settings('github', 'https://ghe.example.test/api/v3', 'team one/app#1'), status()).url, `https://ghe.example.test/api/v3/repos/team%20one/app%231/statuses/${SHA}`)
})

const GITLAB = settings('gitlab', 'https://gitlab.example.test/api/v4', 'group/sub/project')

t.test('gitlab: a status with a build page is posted to the project, named, for the branch', async t => {
  t.strictSame(gitlab.request(GITLAB, status()), {
    method: 'POST',
    url: `https://gitlab.example.test/api/v4/projects/group%2Fsub%2Fproject/statuses/${SHA}`,
    headers: JSON_HEADERS,
    body: `{"state":"success","name":"build-hook/web","ref":"main","target_url":"${BUILD_PAGE}","description":"Build 42 succeeded in 1m 3s"}`
  })
})

t.test('gitlab: a status without a build page has no target_url', async t => {
  t.equal(gitlab.request(GITLAB, status({ state: 'running', targetUrl: null, branch: 'release/2.x' })).body,
    '{"state":"running","name":"build-hook/web","ref":"release/2.x","description":"Build 42 succeeded in 1m 3s"}')
})

t.test('gitlab: a failed build is failed, an error too, and a cancelled one canceled', async t => {
  t.strictSame(states(gitlab), { pending: 'pending', running: 'running', success: 'success', failure: 'failed', error: 'failed', cancelled: 'canceled' })
})

t.test('gitlab: the project path of a subgroup is one encoded segment', async t => {
  t.equal(gitlab.request(settings('gitlab', 'https://gitlab.com/api/v4', 'acme/platform/tools/build.hook'), status()).url, `https://gitlab.com/api/v4/projects/acme%2Fplatform%2Ftools%2Fbuild.hook/statuses/${SHA}`)
})

t.test('gitlab: the token goes in PRIVATE-TOKEN', async t => {
  t.strictSame(gitlab.authorization('glpat-secret'), { 'PRIVATE-TOKEN': 'glpat-secret' })
})

t.test('gitlab: a refusal to enter the state the status already has means it is already set', async t => {
  t.ok(gitlab.alreadySet(400, '{"message":"Cannot transition status via :enqueue from :pending (Reason(s): Status cannot transition via \\"enqueue\\")"}'))
  t.ok(gitlab.alreadySet(400, '{"message":"Cannot transition status via :run from :running (Reason(s): Status cannot transition via \\"run\\")"}'))
})

t.test('gitlab: any other refusal is not a status already set', async t => {
  t.ok(gitlab.alreadySet(400, '{"message":"Cannot transition status via :enqueue from :running (Reason(s): Status cannot transition via \\"enqueue\\")"}'), 'pending after running (queued again): the commit shows it in progress')
  t.notOk(gitlab.alreadySet(400, '{"message":"Cannot transition status via :run from :pending"}'))
  t.notOk(gitlab.alreadySet(400, '{"error":"state does not have a valid value"}'))
  t.notOk(gitlab.alreadySet(409, '{"message":"Cannot transition status via :run from :running"}'), 'the message counts only on a 400')
  t.notOk(gitlab.alreadySet(201, ''))
})

const GITEA = settings('gitea', 'https://gitea.example.test/api/v1', 'acme/web')

t.test('gitea: a status with a build page is posted to the commit with its link', async t => {
  t.strictSame(gitea.request(GITEA, status({ state: 'failure' })), {
    method: 'POST',
    url: `https://gitea.example.test/api/v1/repos/acme/web/statuses/${SHA}`,
    headers: JSON_HEADERS,
    body: `{"state":"failure","target_url":"${BUILD_PAGE}","description":"Build 42 succeeded in 1m 3s","context":"build-hook/web"}`
  })
})

t.test('gitea: a status without a build page has no target_url', async t => {
  t.equal(gitea.request(GITEA, status({ state: 'pending', targetUrl: null })).body, '{"state":"pending","description":"Build 42 succeeded in 1m 3s","context":"build-hook/web"}')
})

t.test('gitea: a running build is pending and a cancelled one an error', async t => {
  t.strictSame(states(gitea), { pending: 'pending', running: 'pending', success: 'success', failure: 'failure', error: 'error', cancelled: 'error' })
})

t.test('gitea: the token goes as Authorization: token, and no error answer means the status is already set', async t => {
  t.strictSame(gitea.authorization('gt-secret'), { Authorization: 'token gt-secret' })
  t.equal(gitea.alreadySet(422, '{}'), false)
})

t.test('forgejo: the same request as Gitea, under its own provider name', async t => {
  const forgejoSettings = settings('forgejo', 'https://codeberg.org/api/v1', 'acme/web')
  t.equal(forgejo.provider, 'forgejo')
  t.equal(gitea.provider, 'gitea')
  t.strictSame(forgejo.request(forgejoSettings, status()), { ...gitea.request(GITEA, status()), url: `https://codeberg.org/api/v1/repos/acme/web/statuses/${SHA}` })
  t.strictSame(states(forgejo), states(gitea))
  t.strictSame(forgejo.authorization('fj-secret'), { Authorization: 'token fj-secret' })
})

const BITBUCKET = settings('bitbucket', 'https://api.bitbucket.org', 'acme-team/web-app')

t.test('bitbucket: a status with a build page is posted as a build status keyed by the context', async t => {
  t.strictSame(bitbucket.request(BITBUCKET, status()), {
    method: 'POST',
    url: `https://api.bitbucket.org/2.0/repositories/acme-team/web-app/commit/${SHA}/statuses/build`,
    headers: JSON_HEADERS,
    body: `{"key":"build-hook/web","state":"SUCCESSFUL","name":"build-hook/web","url":"${BUILD_PAGE}","description":"Build 42 succeeded in 1m 3s","refname":"main"}`
  })
})

t.test('bitbucket: a status without a build page links to the repository, since Bitbucket requires a url', async t => {
  t.equal(bitbucket.request(BITBUCKET, status({ state: 'running', targetUrl: null })).body,
    '{"key":"build-hook/web","state":"INPROGRESS","name":"build-hook/web","url":"https://code.example.test/acme/web","description":"Build 42 succeeded in 1m 3s","refname":"main"}')
})

t.test('bitbucket: a failed build is FAILED, an error too, and a cancelled one STOPPED', async t => {
  t.strictSame(states(bitbucket), { pending: 'INPROGRESS', running: 'INPROGRESS', success: 'SUCCESSFUL', failure: 'FAILED', error: 'FAILED', cancelled: 'STOPPED' })
})

t.test('bitbucket: an access token goes as Bearer', async t => {
  t.strictSame(bitbucket.authorization('ATCTT3xFfGN0-secret'), { Authorization: 'Bearer ATCTT3xFfGN0-secret' })
  t.equal(bitbucket.alreadySet(400, '{}'), false)
})

t.test('bitbucket: user:app-password and email:api-token go as Basic credentials', async t => {
  t.strictSame(bitbucket.authorization('build-bot:app-password'), { Authorization: `Basic ${Buffer.from('build-bot:app-password').toString('base64')}` })
  t.strictSame(bitbucket.authorization('ci@example.test:ATATT-token'), { Authorization: 'Basic Y2lAZXhhbXBsZS50ZXN0OkFUQVRULXRva2Vu' })
})

t.test('every provider has its module', async t => {
  t.strictSame(Object.keys(STATUS_HOSTS).sort(), ['bitbucket', 'forgejo', 'gitea', 'github', 'gitlab'])
  for (const [provider, host] of Object.entries(STATUS_HOSTS)) t.equal(host.provider, provider)
  t.equal(statusHost('gitlab'), gitlab)
  t.equal(statusHost('forgejo'), forgejo)
})
