import { readFileSync } from 'node:fs'
import path from 'node:path'
import t from 'tap'
import { parseConfig, type ProjectSettings, type StatusSettings } from '../../../lib/config/index.js'
import { configProblems, MINIMAL_CONFIG, ROOT, SAMPLE_CONFIG } from '../../helper.js'

// app.public_url, [projects.status] and [[projects.notify]]: what is rejected (with its TOML path) and what
// a valid file becomes.

const SOURCE = '/etc/build-hook/config.toml'
const CODE_URL = 'url = "https://git.test/org/demo"'

const problemsOf = (toml: string): string[] => configProblems(toml, SOURCE)

/** MINIMAL_CONFIG's project with another code.url and more TOML for it (e.g. its [projects.status]). */
function project (url: string, extra: string): string {
  return MINIMAL_CONFIG.replace(CODE_URL, `url = "${url}"`) + extra
}

function status (url: string, body: string): string {
  return project(url, `[projects.status]\ntoken_env = "STATUS_TOKEN"\n${body}\n`)
}

function statusOf (url: string, body = ''): StatusSettings | null {
  return parseConfig(status(url, body), SOURCE).projects[0]!.status
}

function notifyOf (entries: string): ProjectSettings['notify'] {
  return parseConfig(MINIMAL_CONFIG + entries, SOURCE).projects[0]!.notify
}

const withPublicUrl = (value: string): string => MINIMAL_CONFIG.replace('[app]\n', `[app]\npublic_url = "${value}"\n`)

t.test('a config without public_url, status or notify has no links, no statuses and no notifications', async t => {
  const settings = parseConfig(MINIMAL_CONFIG, SOURCE)
  t.equal(settings.publicUrl, null)
  t.equal(settings.projects[0]!.status, null)
  t.same(settings.projects[0]!.notify, [])
})

t.test('public_url is kept as written, without its trailing slashes, and may have a path', async t => {
  const publicUrl = (value: string): string | null => parseConfig(withPublicUrl(value), SOURCE).publicUrl
  t.equal(publicUrl('https://hook.example.com/'), 'https://hook.example.com')
  t.equal(publicUrl('https://example.com/hook//'), 'https://example.com/hook')
  t.equal(publicUrl('http://10.0.0.5:3000'), 'http://10.0.0.5:3000')
  t.equal(publicUrl('HTTPS://Hook.Example.com/build-hook'), 'HTTPS://Hook.Example.com/build-hook')
})

t.test('public_url must be an http or https URL without credentials, query or #fragment', async t => {
  const notUrl = 'must be an http or https URL, e.g. https://build-hook.example.com'
  const cases: Array<[string, string]> = [
    ['hook.example.com', notUrl],
    ['ftp://hook.example.com', notUrl],
    ['https://', notUrl],
    ['https:hook.example.com', notUrl],
    ['https:///hook.example.com', notUrl],
    ['https://hook example.com', notUrl],
    ['https://hook.example.com\\\\ui', notUrl],
    ['https://hook.example.com/\\t', notUrl],
    ['https://[::1', notUrl],
    ['https://admin:secret@hook.example.com', 'must not contain credentials'],
    ['https://@hook.example.com', 'must not contain credentials'],
    ['https://hook.example.com/?a=1', 'must not contain a query or a #fragment: build links are appended to it'],
    ['https://hook.example.com?', 'must not contain a query or a #fragment: build links are appended to it'],
    ['https://hook.example.com/#top', 'must not contain a query or a #fragment: build links are appended to it']
  ]
  for (const [value, message] of cases) t.same(problemsOf(withPublicUrl(value)), [`app.public_url: ${message}`], value)
  t.same(problemsOf(withPublicUrl('')), ['app.public_url: must not be empty'])
})

t.test('the provider is inferred for github.com, gitlab.com and bitbucket.org, with their API roots', async t => {
  t.same(statusOf('https://github.com/org/repo.git'), {
    provider: 'github', apiUrl: 'https://api.github.com', repository: 'org/repo', context: 'build-hook/demo', tokenEnv: 'STATUS_TOKEN'
  })
  t.same(statusOf('https://GitLab.com/group/sub/project/'), {
    provider: 'gitlab', apiUrl: 'https://gitlab.com/api/v4', repository: 'group/sub/project', context: 'build-hook/demo', tokenEnv: 'STATUS_TOKEN'
  })
  t.same(statusOf('https://bitbucket.org/workspace/repo'), {
    provider: 'bitbucket', apiUrl: 'https://api.bitbucket.org', repository: 'workspace/repo', context: 'build-hook/demo', tokenEnv: 'STATUS_TOKEN'
  })
  t.equal(statusOf('https://github.com:443/org/repo')!.provider, 'github', 'the port is not part of the host')
})

t.test('any other host needs a provider, www. and subdomains of the public hosts included', async t => {
  const providers = 'set provider = "github" | "gitlab" | "gitea" | "forgejo" | "bitbucket"'
  const cases: Array<[string, string]> = [
    ['https://git.test/org/demo', 'git.test'],
    ['https://www.github.com/org/repo', 'www.github.com'],
    ['https://gitlab.com.evil.test/org/repo', 'gitlab.com.evil.test'],
    ['http://localhost:3000/org/repo', 'localhost']
  ]
  for (const [url, host] of cases) {
    t.same(problemsOf(status(url, '')), [
      `projects[0].status.provider: required: code.url's host ${host} is not github.com, gitlab.com or bitbucket.org; ${providers}`
    ], url)
  }
})

t.test('self-hosted Gitea, Forgejo, GitLab and GitHub Enterprise get their API root from code.url', async t => {
  t.match(statusOf('https://git.example.com:3000/org/repo', 'provider = "gitea"'), {
    provider: 'gitea', apiUrl: 'https://git.example.com:3000/api/v1', repository: 'org/repo'
  })
  t.match(statusOf('https://codeberg.org/org/repo.git', 'provider = "forgejo"'), {
    provider: 'forgejo', apiUrl: 'https://codeberg.org/api/v1', repository: 'org/repo'
  })
  t.match(statusOf('https://example.com/git/org/repo', 'provider = "gitea"'), {
    apiUrl: 'https://example.com/git/api/v1', repository: 'org/repo'
  }, 'a Gitea under a sub-path has its API under it too')
  t.match(statusOf('https://gitlab.example.com/group/sub/project.git', 'provider = "gitlab"'), {
    provider: 'gitlab', apiUrl: 'https://gitlab.example.com/api/v4', repository: 'group/sub/project'
  })
  t.match(statusOf('https://ghe.example.com/org/repo', 'provider = "github"'), {
    provider: 'github', apiUrl: 'https://ghe.example.com/api/v3', repository: 'org/repo'
  })
  t.match(statusOf('https://github.com/org/repo', 'provider = "github"'), { apiUrl: 'https://api.github.com' })
  t.match(statusOf('https://bitbucket.org/ws/repo', 'provider = "bitbucket"'), { apiUrl: 'https://api.bitbucket.org', repository: 'ws/repo' })
})

t.test('an explicit provider wins over the host, and api_url and context are kept as written, without trailing slashes', async t => {
  t.same(statusOf('https://github.com/org/repo', 'provider = "gitea"\napi_url = "https://mirror.example.com/api/v1/"\ncontext = "ci / build"'), {
    provider: 'gitea', apiUrl: 'https://mirror.example.com/api/v1', repository: 'org/repo', context: 'ci / build', tokenEnv: 'STATUS_TOKEN'
  })
})

t.test('GitLab under a sub-path: the repository is the path after the API root\'s prefix', async t => {
  t.match(statusOf('https://example.com/gitlab/group/sub/project', 'provider = "gitlab"\napi_url = "https://example.com/gitlab/api/v4"'), {
    apiUrl: 'https://example.com/gitlab/api/v4', repository: 'group/sub/project'
  })
  t.match(statusOf('https://example.com/tools/gitlab/group/project.git/', 'provider = "gitlab"\napi_url = "https://example.com/tools/gitlab/api"'), {
    apiUrl: 'https://example.com/tools/gitlab/api', repository: 'group/project'
  })
  t.match(statusOf('https://example.com/group/project', 'provider = "gitlab"\napi_url = "https://example.com/gitlab/api/v4"'), {
    repository: 'group/project'
  }, 'a code.url outside the prefix keeps its whole path')
  t.match(statusOf('https://example.com/group/project', 'provider = "gitlab"\napi_url = "https://gitlab-api.internal/v4"'), {
    apiUrl: 'https://gitlab-api.internal/v4', repository: 'group/project'
  }, 'an API root without /api has no prefix')
  t.match(statusOf('https://example.com/api/group/project', 'provider = "gitlab"\napi_url = "https://example.com/api/v4"'), {
    repository: 'api/group/project'
  }, 'no prefix before /api: nothing is taken off')
})

t.test('a Gogs project asking for commit statuses is told Gogs has none, and its notifications are fine', async t => {
  t.same(problemsOf(status('https://gogs.example.com/org/repo', 'provider = "gogs"\n[[projects.notify]]\nurl = "https://chat.example.com/hook"')), [
    'projects[0].status.provider: Gogs has no commit status API: remove [projects.status] from this project (notifications through [[projects.notify]] still work)'
  ])
  t.same(problemsOf(project('https://gogs.example.com/org/repo', '[[projects.notify]]\nurl = "https://chat.example.com/hook"\n')), [])
})

t.test('bitbucket outside bitbucket.org needs an api_url: only Bitbucket Cloud is supported', async t => {
  t.same(problemsOf(status('https://bitbucket.example.com/scm/proj/repo', 'provider = "bitbucket"')), [
    "projects[0].status.api_url: required for a bitbucket provider outside bitbucket.org: only Bitbucket Cloud's status API is supported (https://api.bitbucket.org)"
  ])
  t.match(statusOf('https://bitbucket.example.com/ws/repo', 'provider = "bitbucket"\napi_url = "https://api.bitbucket.org"'), {
    provider: 'bitbucket', apiUrl: 'https://api.bitbucket.org', repository: 'ws/repo'
  })
})

t.test('a Bitbucket status key (the context) is at most 40 characters, the default one included', async t => {
  t.same(problemsOf(status('https://bitbucket.org/ws/repo', `context = "${'k'.repeat(41)}"`)), [
    'projects[0].status.context: must be at most 40 characters for Bitbucket (the longest status key it accepts)'
  ])
  t.same(problemsOf(status('https://bitbucket.org/ws/repo', `context = "${'k'.repeat(40)}"`)), [])
  const longSlug = status('https://bitbucket.org/ws/repo', '').replace('slug = "demo"', `slug = "${'s'.repeat(30)}"`)
  t.same(problemsOf(longSlug), [
    `projects[0].status.context: required: the default 'build-hook/${'s'.repeat(30)}' is longer than the 40 characters Bitbucket accepts for a status key; set a shorter context`
  ])
  t.same(problemsOf(status('https://github.com/org/repo', `context = "${'k'.repeat(41)}"`)), [], 'other hosts take longer names')
})

t.test('commit statuses need code.url to name a repository: at least two path segments', async t => {
  const cases: Array<[string, string, string]> = [
    ['https://github.com/org', '', 'https://github.com/owner/repo'],
    ['https://git.test/demo.git', 'provider = "gitea"', 'https://git.test/owner/repo'],
    ['https://git.test/org/.git', 'provider = "forgejo"', 'https://git.test/owner/repo'],
    ['https://git.test//', 'provider = "github"', 'https://git.test/owner/repo'],
    ['https://gitlab.com/project', '', 'https://gitlab.com/group/project'],
    ['https://example.com/gitlab/project', 'provider = "gitlab"\napi_url = "https://example.com/gitlab/api/v4"', 'https://example.com/gitlab/group/project']
  ]
  for (const [url, body, example] of cases) {
    t.same(problemsOf(status(url, body)), [`projects[0].status: code.url must look like ${example} for commit statuses`], url)
  }
})

t.test('token_env, api_url and context are checked', async t => {
  t.same(problemsOf(project('https://github.com/org/repo', '[projects.status]\ntoken_env = "my token"\n')), [
    'projects[0].status.token_env: must be the name of an environment variable: [A-Za-z_][A-Za-z0-9_]*'
  ])
  const notApi = 'must be an http or https URL of the API root, e.g. https://git.example.com/api/v1'
  const apiCases: Array<[string, string]> = [
    ['git.example.com/api/v1', notApi],
    ['ssh://git.example.com/api/v1', notApi],
    ['https://user:pass@git.example.com/api/v1', 'must not contain credentials: the token is read from token_env'],
    ['https://git.example.com/api/v1?x=1', 'must not contain a query or a #fragment'],
    ['https://git.example.com/api/v1#x', 'must not contain a query or a #fragment']
  ]
  for (const [value, message] of apiCases) {
    t.same(problemsOf(status('https://git.test/org/demo', `provider = "gitlab"\napi_url = "${value}"`)), [`projects[0].status.api_url: ${message}`], value)
  }
  t.same(problemsOf(status('https://github.com/org/repo', 'context = "ci\\u0007build"')), ['projects[0].status.context: must not contain control characters'])
  t.same(problemsOf(status('https://github.com/org/repo', 'context = "ci\\u0085build"')), ['projects[0].status.context: must not contain control characters'])
  t.same(problemsOf(status('https://github.com/org/repo', `context = "${'c'.repeat(256)}"`)), ['projects[0].status.context: must be at most 255 characters'])
  t.same(problemsOf(status('https://github.com/org/repo', `context = "${'c'.repeat(255)}"`)), [])
  t.same(problemsOf(status('https://github.com/org/repo', `context = "${'✓'.repeat(255)}"`)), [], 'characters, not UTF-16 units')
  t.same(problemsOf(status('https://github.com/org/repo', `context = "${'🚀'.repeat(255)}"`)), [], 'characters, not UTF-16 units')
})

t.test('a broken code.url, provider or status table is reported once, by its own rule', async t => {
  t.same(problemsOf(status('git@github.com:org/repo.git', '')), [
    'projects[0].code.url: must be an https URL of a git repository, e.g. https://github.com/org/repo'
  ])
  t.same(problemsOf(MINIMAL_CONFIG.replace(CODE_URL, '') + '[projects.status]\ntoken_env = "T"\n'), ['projects[0].code.url: is required'])
  t.same(problemsOf(status('https://git.test/org/demo', 'provider = "gitbucket"')), [
    "projects[0].status.provider: must be one of 'github', 'gitlab', 'gitea', 'forgejo', 'bitbucket', 'gogs'"
  ])
  t.same(problemsOf(project('https://github.com/org/repo', '[projects.status]\ncontext = "ci"\nstate = "x"\n')), [
    'projects[0].status.state: unknown key (allowed: token_env, provider, api_url, context)',
    'projects[0].status.token_env: is required'
  ])
  t.same(problemsOf(MINIMAL_CONFIG.replace('slug = "demo"\n', 'slug = "demo"\nstatus = "github"\n')), ['projects[0].status: must be a table'])
  t.same(problemsOf(status('https://gitlab.com/group/project', 'api_url = "gitlab.com"')), [
    'projects[0].status.api_url: must be an http or https URL of the API root, e.g. https://git.example.com/api/v1'
  ], 'an invalid api_url is not used to find the repository')
})

t.test('a notify entry with only a url is sent on succeeded and failed, as unsigned json', async t => {
  t.same(notifyOf('[[projects.notify]]\nurl = "https://hooks.example.com/build"\n'), [
    { url: 'https://hooks.example.com/build', events: ['succeeded', 'failed'], format: 'json', secretEnv: null }
  ])
})

t.test('notify entries keep their events in the order given, their format and secret_env', async t => {
  t.same(notifyOf(
    '[[projects.notify]]\nurl = "https://hooks.slack.com/services/T0/B0/xyz?channel=ci"\nevents = ["failed", "queued", "superseded"]\nformat = "slack"\n' +
    '[[projects.notify]]\nurl = "http://10.0.0.9:8080/hooks"\nevents = ["running", "succeeded", "cancelled"]\nsecret_env = "NOTIFY_SECRET"\n'
  ), [
    { url: 'https://hooks.slack.com/services/T0/B0/xyz?channel=ci', events: ['failed', 'queued', 'superseded'], format: 'slack', secretEnv: null },
    { url: 'http://10.0.0.9:8080/hooks', events: ['running', 'succeeded', 'cancelled'], format: 'json', secretEnv: 'NOTIFY_SECRET' }
  ])
})

t.test('the default events of one entry are not shared with another, nor with the defaults', async t => {
  const [a, b] = notifyOf('[[projects.notify]]\nurl = "https://a.test/"\n[[projects.notify]]\nurl = "https://b.test/"\n')
  t.not(a!.events, b!.events)
  t.ok(Object.isFrozen(a!.events))
  t.same(parseConfig(MINIMAL_CONFIG + '[[projects.notify]]\nurl = "https://c.test/"\n', SOURCE).projects[0]!.notify[0]!.events, ['succeeded', 'failed'])
})

t.test('notify urls, secret_env and events are checked, duplicate events at the repeat', async t => {
  const entry = (body: string): string => MINIMAL_CONFIG + `[[projects.notify]]\n${body}\n`
  const notUrl = 'must be an http or https URL, e.g. https://hooks.slack.com/services/...'
  const cases: Array<[string, string]> = [
    ['hooks.example.com/x', notUrl],
    ['mailto:ops@example.com', notUrl],
    ['https://bot:secret@chat.example.com/hook', 'must not contain user:password@ credentials: sign the body with secret_env, or put a token in the path or query'],
    ['https://chat.example.com/hook#ci', 'must not contain a #fragment']
  ]
  for (const [value, message] of cases) t.same(problemsOf(entry(`url = "${value}"`)), [`projects[0].notify[0].url: ${message}`], value)
  t.same(problemsOf(entry('url = "https://chat.example.com/hook?token=a@b&x=1"')), [], 'an @ in the query is not a credential')
  t.same(problemsOf(
    entry('url = "https://a.test/"') + '[[projects.notify]]\nurl = "https://b.test/"\nsecret_env = "NOTIFY-SECRET"\nevents = ["failed", "queued", "failed", "queued"]\n'
  ), [
    'projects[0].notify[1].events[2]: duplicate of projects[0].notify[1].events[0] (\'failed\')',
    'projects[0].notify[1].events[3]: duplicate of projects[0].notify[1].events[1] (\'queued\')',
    'projects[0].notify[1].secret_env: must be the name of an environment variable: [A-Za-z_][A-Za-z0-9_]*'
  ])
  t.same(problemsOf(entry('url = "https://a.test/"\nevents = ["done", "done"]')), [
    "projects[0].notify[0].events[0]: must be one of 'queued', 'running', 'succeeded', 'failed', 'cancelled', 'superseded'",
    "projects[0].notify[0].events[1]: must be one of 'queued', 'running', 'succeeded', 'failed', 'cancelled', 'superseded'"
  ], 'an unknown event is reported once, by the schema, not again as a duplicate')
  t.same(problemsOf(entry('url = "https://a.test/"\nevents = []\nformat = "xml"')), [
    'projects[0].notify[0].events: must have at least one entry',
    "projects[0].notify[0].format: must be one of 'json', 'slack'"
  ])
  t.same(problemsOf(entry('events = ["failed"]')), ['projects[0].notify[0].url: is required'])
  t.same(problemsOf(MINIMAL_CONFIG.replace('slug = "demo"\n', 'slug = "demo"\nnotify = "https://a.test/"\n')), ['projects[0].notify: must be an array'])
})

t.test('every problem of statuses and notifications is listed in one pass, across projects', async t => {
  const second = MINIMAL_CONFIG.slice(MINIMAL_CONFIG.indexOf('[[projects]]'))
    .replace('slug = "demo"', 'slug = "two"').replace('repository = "demo/web"', 'repository = "two/web"')
  const toml = withPublicUrl('https://hook.example.com/#x') +
    '[projects.status]\ntoken_env = "T"\n[[projects.notify]]\nurl = "ftp://x"\n' +
    second + '[projects.status]\ntoken_env = "T"\nprovider = "gogs"\n'
  t.same(problemsOf(toml), [
    'app.public_url: must not contain a query or a #fragment: build links are appended to it',
    'projects[0].notify[0].url: must be an http or https URL, e.g. https://hooks.slack.com/services/...',
    'projects[0].status.provider: required: code.url\'s host git.test is not github.com, gitlab.com or bitbucket.org; set provider = "github" | "gitlab" | "gitea" | "forgejo" | "bitbucket"',
    'projects[1].status.provider: Gogs has no commit status API: remove [projects.status] from this project (notifications through [[projects.notify]] still work)'
  ])
})

t.test('the commented-out examples of the sample and deploy configs are valid once uncommented', async t => {
  const repositories = { [SAMPLE_CONFIG]: 'docker-library/hello-world', [path.join(ROOT, 'deploy', 'config.toml')]: 'example/example-app' }
  for (const [file, repository] of Object.entries(repositories)) {
    const text = readFileSync(file, 'utf8')
    const uncommented = text.replace(/^# (?=\[|[a-z_]+ = )/gm, '')
    t.not(uncommented, text, `${path.relative(ROOT, file)} has examples`)
    const settings = parseConfig(uncommented, file)
    t.equal(settings.publicUrl, 'https://build-hook.example.com', path.relative(ROOT, file))
    t.match(settings.projects[0]!.status, { provider: 'github', apiUrl: 'https://api.github.com', repository })
    t.match(settings.projects[0]!.notify[0], { format: 'slack', events: ['failed'] })
  }
})
