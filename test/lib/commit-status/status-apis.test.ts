import http from 'node:http'
import t, { type Test } from 'tap'
import type { StatusProvider } from '../../../lib/config/schema.js'
import type { StatusSettings } from '../../../lib/config/settings.js'
import { gitlab } from '../../../lib/commit-status/gitlab.js'
import { statusHost } from '../../../lib/commit-status/hosts.js'
import type { CommitStatus, StatusRequest } from '../../../lib/commit-status/types.js'
import { startStatusApi, type StatusApi } from '../../fixtures/status-apis.js'

const SHA = '0123456789abcdef0123456789abcdef01234567'
const TOKEN = 'status-token-1'
const BUILD_PAGE = 'https://hook.example.test/ui/builds/7'

const REPOSITORIES: Readonly<Record<StatusProvider, string>> = {
  github: 'octo.org/hello-world',
  gitlab: 'group/sub/project',
  gitea: 'acme/web',
  forgejo: 'acme/web',
  bitbucket: 'acme-team/web-app'
}

function settings (provider: StatusProvider, api: StatusApi): StatusSettings {
  return { provider, apiUrl: api.url, repository: REPOSITORIES[provider], context: 'build-hook/web', tokenEnv: 'STATUS_TOKEN' }
}

function status (overrides: Partial<CommitStatus> = {}): CommitStatus {
  return { commit: SHA, state: 'running', description: 'Building', targetUrl: BUILD_PAGE, branch: 'main', codeUrl: 'https://code.example.test/acme/web', ...overrides }
}

/** Sends a request as the reporter will: fetch, with the host's authorization headers for `token`. */
async function send (provider: StatusProvider, request: StatusRequest, token = TOKEN): Promise<{ statusCode: number, body: string }> {
  const response = await fetch(request.url, { method: request.method, headers: { ...request.headers, ...statusHost(provider).authorization(token) }, body: request.body })
  return { statusCode: response.status, body: await response.text() }
}

async function start (t: Test, provider: StatusProvider, token = TOKEN): Promise<StatusApi> {
  return startStatusApi(t, provider, { token, repository: REPOSITORIES[provider] })
}

const PROVIDERS: readonly StatusProvider[] = ['github', 'gitlab', 'gitea', 'forgejo', 'bitbucket']

for (const provider of PROVIDERS) {
  t.test(`${provider}: the request the ${provider} module builds is accepted and recorded`, async t => {
    const api = await start(t, provider)
    const host = statusHost(provider)
    const request = host.request(settings(provider, api), status())
    const answer = await send(provider, request)
    t.equal(answer.statusCode, 201, answer.body)
    t.equal(api.calls.length, 1)
    t.match(api.calls[0], { provider, method: 'POST', path: new URL(request.url).pathname, commit: SHA, state: host.state('running'), context: 'build-hook/web', description: 'Building', targetUrl: BUILD_PAGE, body: JSON.parse(request.body) })
    t.strictSame(api.rejected, [])
  })

  t.test(`${provider}: a wrong token is a 401`, async t => {
    const api = await start(t, provider)
    const answer = await send(provider, statusHost(provider).request(settings(provider, api), status()), 'not-the-token')
    t.equal(answer.statusCode, 401)
    t.match(api.rejected, [{ statusCode: 401, reason: 'wrong credentials' }])
    t.strictSame(api.calls, [])
  })

  t.test(`${provider}: no token is a 401`, async t => {
    const api = await start(t, provider)
    const request = statusHost(provider).request(settings(provider, api), status())
    const response = await fetch(request.url, { method: 'POST', headers: request.headers, body: request.body })
    t.equal(response.status, 401)
    t.match(api.rejected, [{ statusCode: 401, reason: 'no credentials' }])
  })

  t.test(`${provider}: another repository, a short commit, another method or path are refused`, async t => {
    const api = await start(t, provider)
    const host = statusHost(provider)
    const other = host.request({ ...settings(provider, api), repository: 'someone/else' }, status())
    t.equal((await send(provider, other)).statusCode, 404)
    const short = host.request(settings(provider, api), status({ commit: SHA.slice(0, 12) }))
    t.equal((await send(provider, short)).statusCode, provider === 'github' ? 422 : 404)
    const request = host.request(settings(provider, api), status())
    const get = await fetch(request.url, { headers: { ...request.headers, ...host.authorization(TOKEN) } })
    t.equal(get.status, 404)
    t.equal((await send(provider, { ...request, url: `${api.url}/user` })).statusCode, 404)
    t.match(api.rejected, [{ reason: 'no such repository' }, { reason: 'no such commit' }, { reason: 'no such route' }, { reason: 'no such route' }])
    t.strictSame(api.calls, [])
  })
}

function withBody (request: StatusRequest, change: (body: Record<string, unknown>) => void): StatusRequest {
  const body = JSON.parse(request.body) as Record<string, unknown>
  change(body)
  return { ...request, body: JSON.stringify(body) }
}

t.test('a state the host does not know is refused as each host refuses it', async t => {
  const unknown: Record<StatusProvider, [string, number]> = { github: ['running', 422], gitlab: ['failure', 400], gitea: ['running', 422], forgejo: ['cancelled', 422], bitbucket: ['PENDING', 400] }
  for (const provider of PROVIDERS) {
    const api = await start(t, provider)
    const [state, code] = unknown[provider]
    const answer = await send(provider, withBody(statusHost(provider).request(settings(provider, api), status()), body => { body.state = state }))
    t.equal(answer.statusCode, code, provider)
    t.match(api.rejected, [{ statusCode: code, reason: `unknown state "${state}"` }], provider)
    t.strictSame(api.calls, [], provider)
  }
})

t.test('github: the refusal of a state is a Validation Failed naming the field', async t => {
  const api = await start(t, 'github')
  const answer = await send('github', withBody(statusHost('github').request(settings('github', api), status()), body => { body.state = 'running' }))
  t.match(JSON.parse(answer.body), { message: 'Validation Failed', errors: [{ resource: 'Status', field: 'state', code: 'custom' }] })
})

t.test('a body that is not JSON or lacks the state is refused', async t => {
  const notJson: Record<StatusProvider, number> = { github: 400, gitlab: 400, gitea: 422, forgejo: 422, bitbucket: 400 }
  const noState: Record<StatusProvider, number> = { github: 422, gitlab: 400, gitea: 422, forgejo: 422, bitbucket: 400 }
  for (const provider of PROVIDERS) {
    const api = await start(t, provider)
    const request = statusHost(provider).request(settings(provider, api), status())
    t.equal((await send(provider, { ...request, body: 'state=success' })).statusCode, notJson[provider], `${provider}: not JSON`)
    t.equal((await send(provider, withBody(request, body => { delete body.state }))).statusCode, noState[provider], `${provider}: no state`)
    t.equal((await send(provider, withBody(request, body => { body.description = 42 }))).statusCode, noState[provider], `${provider}: a description that is not text`)
    t.strictSame(api.calls, [], provider)
  }
})

t.test('github: a description over 140 characters is a 422', async t => {
  const api = await start(t, 'github')
  const request = statusHost('github').request(settings('github', api), status({ description: 'x'.repeat(141) }))
  const answer = await send('github', request)
  t.equal(answer.statusCode, 422)
  t.match(JSON.parse(answer.body), { errors: [{ field: 'description', message: 'description is too long (maximum is 140 characters)' }] })
  t.equal((await send('github', statusHost('github').request(settings('github', api), status({ description: 'é'.repeat(140) })))).statusCode, 201, '140 characters are enough')
})

t.test('github: a request without a User-Agent is a 403', async t => {
  const api = await start(t, 'github')
  const request = statusHost('github').request(settings('github', api), status())
  const headers: Record<string, string> = { ...request.headers, ...statusHost('github').authorization(TOKEN) }
  delete headers['User-Agent']
  const statusCode = await new Promise<number | undefined>((resolve, reject) => {
    http.request(request.url, { method: 'POST', headers }, response => { response.resume(); resolve(response.statusCode) }).on('error', reject).end(request.body)
  })
  t.equal(statusCode, 403)
  t.match(api.rejected, [{ statusCode: 403, reason: 'no User-Agent' }])
})

t.test('github: the classic token scheme is accepted too, the repository whatever its case', async t => {
  const api = await start(t, 'github')
  const request = statusHost('github').request({ ...settings('github', api), repository: 'Octo.Org/Hello-World' }, status())
  const response = await fetch(request.url, { method: 'POST', headers: { ...request.headers, Authorization: `token ${TOKEN}` }, body: request.body })
  t.equal(response.status, 201)
  t.match(await response.json(), { state: 'pending', context: 'build-hook/web', target_url: BUILD_PAGE })
})

t.test('gitlab: a project path that is not encoded as one segment is a 404', async t => {
  const api = await start(t, 'gitlab')
  const request = gitlab.request(settings('gitlab', api), status())
  const answer = await send('gitlab', { ...request, url: request.url.replaceAll('%2F', '/') })
  t.equal(answer.statusCode, 404)
  t.strictSame(JSON.parse(answer.body), { error: '404 Not Found' })
})

t.test('gitlab: a Bearer token is accepted as well as PRIVATE-TOKEN', async t => {
  const api = await start(t, 'gitlab')
  const request = gitlab.request(settings('gitlab', api), status())
  const response = await fetch(request.url, { method: 'POST', headers: { ...request.headers, Authorization: `Bearer ${TOKEN}` }, body: request.body })
  t.equal(response.status, 201)
  t.match(await response.json(), { sha: SHA, ref: 'main', status: 'running', name: 'build-hook/web' })
})

t.test('gitlab: repeating the state a status has is a 400 that alreadySet reads as delivered', async t => {
  const api = await start(t, 'gitlab')
  const post = async (state: CommitStatus['state']): Promise<{ statusCode: number, body: string }> => send('gitlab', gitlab.request(settings('gitlab', api), status({ state })))
  t.equal((await post('pending')).statusCode, 201)
  const pending = await post('pending')
  t.equal(pending.statusCode, 400)
  t.strictSame(JSON.parse(pending.body), { message: 'Cannot transition status via :enqueue from :pending (Reason(s): Status cannot transition via "enqueue")' })
  t.ok(gitlab.alreadySet(pending.statusCode, pending.body))
  t.equal((await post('running')).statusCode, 201)
  const running = await post('running')
  t.equal(running.statusCode, 400)
  t.strictSame(JSON.parse(running.body), { message: 'Cannot transition status via :run from :running (Reason(s): Status cannot transition via "run")' })
  t.ok(gitlab.alreadySet(running.statusCode, running.body))
  t.match(api.rejected, [{ statusCode: 400, reason: 'enqueue from pending' }, { statusCode: 400, reason: 'run from running' }])
  t.strictSame(api.calls.map(call => call.state), ['pending', 'running'])
})

t.test('gitlab: going back from running to pending is refused, and counts as set: the commit shows the build in progress', async t => {
  const api = await start(t, 'gitlab')
  t.equal((await send('gitlab', gitlab.request(settings('gitlab', api), status({ state: 'running' })))).statusCode, 201)
  const pending = await send('gitlab', gitlab.request(settings('gitlab', api), status({ state: 'pending' })))
  t.equal(pending.statusCode, 400)
  t.match(JSON.parse(pending.body), { message: /^Cannot transition status via :enqueue from :running/ })
  t.ok(gitlab.alreadySet(pending.statusCode, pending.body))
})

t.test('gitlab: a finished status is never updated: the next pending or running starts a new one', async t => {
  const api = await start(t, 'gitlab')
  for (const state of ['pending', 'failure', 'pending', 'running', 'success', 'running', 'cancelled', 'running'] as const) {
    const answer = await send('gitlab', gitlab.request(settings('gitlab', api), status({ state })))
    t.equal(answer.statusCode, 201, `${state}: ${answer.body}`)
  }
  t.strictSame(api.calls.map(call => call.state), ['pending', 'failed', 'pending', 'running', 'success', 'running', 'canceled', 'running'])
})

t.test('gitlab: each name and commit has its own status', async t => {
  const api = await start(t, 'gitlab')
  t.equal((await send('gitlab', gitlab.request(settings('gitlab', api), status({ state: 'pending' })))).statusCode, 201)
  t.equal((await send('gitlab', gitlab.request({ ...settings('gitlab', api), context: 'build-hook/api' }, status({ state: 'pending' })))).statusCode, 201)
  t.equal((await send('gitlab', gitlab.request(settings('gitlab', api), status({ state: 'pending', commit: 'f'.repeat(40) })))).statusCode, 201)
})

t.test('bitbucket: a key longer than 40 characters is a 400 naming the field', async t => {
  const api = await start(t, 'bitbucket')
  const answer = await send('bitbucket', statusHost('bitbucket').request({ ...settings('bitbucket', api), context: 'k'.repeat(41) }, status()))
  t.equal(answer.statusCode, 400)
  t.strictSame(JSON.parse(answer.body), { type: 'error', error: { message: 'Bad request', fields: { key: ['Ensure this value has at most 40 characters.'] } } })
  t.equal((await send('bitbucket', statusHost('bitbucket').request({ ...settings('bitbucket', api), context: 'k'.repeat(40) }, status()))).statusCode, 201)
})

t.test('bitbucket: a body without url is a 400 naming the field', async t => {
  const api = await start(t, 'bitbucket')
  const request = statusHost('bitbucket').request(settings('bitbucket', api), status())
  const answer = await send('bitbucket', withBody(request, body => { delete body.url }))
  t.equal(answer.statusCode, 400)
  t.strictSame(JSON.parse(answer.body), { type: 'error', error: { message: 'Bad request', fields: { url: ['This field is required.'] } } })
  t.equal((await send('bitbucket', withBody(request, body => { body.url = 'not a url' }))).statusCode, 400)
  t.match(api.rejected, [{ reason: 'no url' }, { reason: 'url is not a URL' }])
})

t.test('bitbucket: user:app-password credentials are Basic, and a Bearer of them is refused', async t => {
  const token = 'build-bot:app-password'
  const api = await start(t, 'bitbucket', token)
  const request = statusHost('bitbucket').request(settings('bitbucket', api), status({ state: 'success' }))
  t.equal((await send('bitbucket', request, token)).statusCode, 201)
  const bearer = await fetch(request.url, { method: 'POST', headers: { ...request.headers, Authorization: `Bearer ${token}` }, body: request.body })
  t.equal(bearer.status, 401)
  t.match(api.calls, [{ state: 'SUCCESSFUL', context: 'build-hook/web', targetUrl: BUILD_PAGE, headers: { authorization: `Basic ${Buffer.from(token).toString('base64')}` } }])
})

t.test('failNext: the scripted answers come first, in order, and only then the double answers', async t => {
  const api = await start(t, 'github')
  api.failNext({ statusCode: 502, body: 'Bad Gateway' }, { statusCode: 403, headers: { 'retry-after': '60', 'content-type': 'application/json' }, body: '{"message":"API rate limit exceeded"}' })
  const request = statusHost('github').request(settings('github', api), status())
  t.strictSame(await send('github', request), { statusCode: 502, body: 'Bad Gateway' })
  const limited = await fetch(request.url, { method: 'POST', headers: { ...request.headers, ...statusHost('github').authorization(TOKEN) }, body: request.body })
  t.equal(limited.status, 403)
  t.equal(limited.headers.get('retry-after'), '60')
  t.strictSame(await limited.json(), { message: 'API rate limit exceeded' })
  t.strictSame(api.calls, [])
  t.equal((await send('github', request)).statusCode, 201)
  t.equal(api.calls.length, 1)
  const path = new URL(request.url).pathname
  t.match(api.rejected, [{ path, statusCode: 502, reason: 'scripted', at: Number }, { path, statusCode: 403, reason: 'scripted', at: Number }])
  t.equal(api.rejected.length, 2)
})

t.test('waitForCalls resolves once enough calls were accepted', async t => {
  const api = await start(t, 'gitea')
  const request = statusHost('gitea').request(settings('gitea', api), status())
  const waiting = api.waitForCalls(2)
  await send('gitea', request)
  await send('gitea', request, 'wrong')
  await send('gitea', request)
  t.match(await waiting, [{ state: 'pending' }, { state: 'pending' }])
  t.equal((await api.waitForCalls(1)).length, 2, 'already there: at once, with every call so far')
})

t.test('waitForCalls rejects at its deadline, saying what was refused', async t => {
  const api = await start(t, 'forgejo')
  await send('forgejo', statusHost('forgejo').request(settings('forgejo', api), status()), 'wrong')
  await t.rejects(api.waitForCalls(1, 50), { message: /got 0 of 1 calls in 50 ms \(refused: .*wrong credentials/ })
})

t.test('close ends keep-alive connections at once, stops listening, and ends waits', async t => {
  const api = await start(t, 'bitbucket')
  const request = statusHost('bitbucket').request(settings('bitbucket', api), status())
  t.equal((await send('bitbucket', request)).statusCode, 201, 'a keep-alive connection is open now')
  const waiting = api.waitForCalls(5)
  const started = Date.now()
  await api.close()
  t.ok(Date.now() - started < 1000, 'close did not wait for the keep-alive timeout')
  await t.rejects(waiting, { message: 'the bitbucket status API double was closed after 1 of 5 calls' })
  await t.rejects(send('bitbucket', request), { cause: { code: 'ECONNREFUSED' } })
  await api.close()
  t.pass('closing twice is fine (t.teardown closes it again)')
})
