import { chmodSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import t from 'tap'
import { Settings } from 'typebox/system'
import { parseConfig, readConfig, ConfigError } from '../../../lib/config/index.js'
import { configProblems, MINIMAL_CONFIG, SAMPLE_CONFIG } from '../../helper.js'

const SOURCE = '/etc/build-hook/config.toml'

const problemsOf = (toml: string): string[] => configProblems(toml, SOURCE)

function edit (from: string, to: string, base = MINIMAL_CONFIG): string {
  if (!base.includes(from)) throw new Error(`test config has no '${from}'`)
  return base.replace(from, to)
}

t.test('the sample config.toml in the repository is valid', async t => {
  const settings = readConfig(SAMPLE_CONFIG)
  t.equal(settings.source, SAMPLE_CONFIG)
  t.ok(settings.projects.length > 0)
})

t.test('a minimal config gets every default filled in', async t => {
  const settings = parseConfig(MINIMAL_CONFIG, SOURCE)
  t.same(settings, {
    source: SOURCE,
    registry: 'registry.test',
    publicUrl: null,
    keepBuilds: 100,
    builder: {
      name: 'build-hook',
      endpoint: 'tcp://buildkitd.build.svc.cluster.local:1234',
      tls: null,
      nodes: [{ name: 'build-hook0', endpoint: 'tcp://buildkitd.build.svc.cluster.local:1234', platforms: [], tls: null }],
      maxConcurrentBuilds: 2,
      timeoutSeconds: 3600,
      shutdownGraceSeconds: 120
    },
    projects: [{
      name: 'Demo',
      slug: 'demo',
      code: { url: 'https://git.test/org/demo', branch: 'main', tokenEnv: null },
      images: [{
        repository: 'demo/web',
        name: 'registry.test/demo/web',
        tag: 'latest',
        location: 'Dockerfile',
        context: '.',
        dockerfile: 'Dockerfile',
        target: null,
        platforms: [],
        buildArgs: {},
        cache: 'registry'
      }],
      deployments: null,
      webhookSecretEnv: null,
      webhookAllowSha1: false,
      status: null,
      notify: []
    }],
    variables: []
  })
})

t.test('settings are frozen all the way down', async t => {
  const settings = parseConfig(MINIMAL_CONFIG, SOURCE)
  t.ok(Object.isFrozen(settings))
  t.ok(Object.isFrozen(settings.projects[0]!.images[0]!.platforms))
  t.throws(() => { (settings.builder as { name: string }).name = 'x' }, TypeError)
})

t.test('the context defaults to the Dockerfile directory and -f is relative to it', async t => {
  const toml = edit('location = "Dockerfile"', 'location = "services/api/Dockerfile.prod"')
  const image = parseConfig(toml, SOURCE).projects[0]!.images[0]!
  t.equal(image.context, 'services/api')
  t.equal(image.dockerfile, 'Dockerfile.prod')
})

t.test('an explicit context keeps the Dockerfile path relative to that context', async t => {
  const toml = edit('location = "Dockerfile"', 'location = "./docker/api/Dockerfile"\ncontext = "."')
  const image = parseConfig(toml, SOURCE).projects[0]!.images[0]!
  t.equal(image.context, '.')
  t.equal(image.dockerfile, 'docker/api/Dockerfile')
  t.equal(image.location, 'docker/api/Dockerfile')
})

t.test('every optional key is read', async t => {
  const toml = `
[app]
registry = "ghcr.io/org"
keep_builds = 20
[app.builder]
name = "ci"
endpoint = "tcp://127.0.0.1:1234"
tls = { ca = "/certs/ca.pem", cert = "/certs/cert.pem", key = "/certs/key.pem", server_name = "buildkitd" }
max_concurrent_builds = 4
timeout_seconds = 600
shutdown_grace_seconds = 30
[app.webhook]
secret_env = "WEBHOOK_SECRET"
[[projects]]
name = "A"
slug = "a"
code = { url = "http://localhost:3000/org/a.git", branch = "release/1.x" }
webhook = { secret_env = "A_SECRET", allow_sha1 = true }
[[projects.image]]
repository = "a/api"
location = "api/Dockerfile"
tag = "v1.2.3"
context = "."
target = "runtime"
platforms = ["linux/amd64", "linux/arm64/v8"]
build_args = { NODE_ENV = "production" }
cache = "inline"
[projects.deployments]
namespace = "a-prod"
resources = ["deployment/api", "sts/db", "daemonsets/agent", "Deployment.apps/worker"]
strategy = "digest"
wait = false
timeout_seconds = 120
[[projects]]
name = "B"
slug = "b"
code = { url = "https://git.test/b", branch = "main" }
[[projects.image]]
repository = "b"
location = "Dockerfile"
tag = "latest"
cache = "none"
`
  const settings = parseConfig(toml, SOURCE, { builderEndpoint: 'tcp://override:1234' })
  t.same(settings.builder, {
    name: 'ci',
    endpoint: 'tcp://override:1234',
    tls: { ca: '/certs/ca.pem', cert: '/certs/cert.pem', key: '/certs/key.pem', serverName: 'buildkitd' },
    nodes: [{
      name: 'ci0',
      endpoint: 'tcp://override:1234',
      platforms: [],
      tls: { ca: '/certs/ca.pem', cert: '/certs/cert.pem', key: '/certs/key.pem', serverName: 'buildkitd' }
    }],
    maxConcurrentBuilds: 4,
    timeoutSeconds: 600,
    shutdownGraceSeconds: 30
  })
  t.equal(settings.keepBuilds, 20)
  const [a, b] = settings.projects
  t.same(a!.images[0], {
    repository: 'a/api',
    name: 'ghcr.io/org/a/api',
    tag: 'v1.2.3',
    location: 'api/Dockerfile',
    context: '.',
    dockerfile: 'api/Dockerfile',
    target: 'runtime',
    platforms: ['linux/amd64', 'linux/arm64/v8'],
    buildArgs: { NODE_ENV: 'production' },
    cache: 'inline'
  })
  t.same(a!.deployments, {
    namespace: 'a-prod',
    resources: [
      { kind: 'deployment', name: 'api' },
      { kind: 'statefulset', name: 'db' },
      { kind: 'daemonset', name: 'agent' },
      { kind: 'deployment', name: 'worker' }
    ],
    strategy: 'digest',
    wait: false,
    timeoutSeconds: 120
  })
  t.equal(a!.webhookSecretEnv, 'A_SECRET', "a project's own webhook secret wins")
  t.equal(b!.webhookSecretEnv, 'WEBHOOK_SECRET', 'app.webhook is the default')
  t.equal(a!.webhookAllowSha1, true)
  t.equal(b!.webhookAllowSha1, false, 'SHA-1 signatures only where a project opts in')
  t.equal(b!.images[0]!.cache, 'none')
})

t.test('TLS options may be given one by one', async t => {
  const settings = parseConfig(MINIMAL_CONFIG + '[app.builder.tls]\nca = "/certs/ca.pem"\n', SOURCE)
  t.same(settings.builder.tls, { ca: '/certs/ca.pem', cert: null, key: null, serverName: null })
  const mutual = parseConfig(MINIMAL_CONFIG + '[app.builder.tls]\ncert = "/c.pem"\nkey = "/k.pem"\n', SOURCE)
  t.same(mutual.builder.tls, { ca: null, cert: '/c.pem', key: '/k.pem', serverName: null })
})

t.test('empty or mistyped values are reported once, by the schema, not again as duplicates', async t => {
  const second = MINIMAL_CONFIG.slice(MINIMAL_CONFIG.indexOf('[[projects]]'))
  const toml = (MINIMAL_CONFIG + second).replaceAll('slug = "demo"', 'slug = ""').replaceAll('repository = "demo/web"', 'repository = 7')
  t.same(problemsOf(toml), [
    'projects[0].image[0].repository: must be a string',
    'projects[0].slug: must not be empty',
    'projects[1].image[0].repository: must be a string',
    'projects[1].slug: must not be empty'
  ])
})

t.test('a deployments table gets wait = true and a 600 s timeout by default', async t => {
  const toml = MINIMAL_CONFIG + '\n[projects.deployments]\nnamespace = "demo"\nresources = ["deployment/web"]\n'
  t.same(parseConfig(toml, SOURCE).projects[0]!.deployments, {
    namespace: 'demo', resources: [{ kind: 'deployment', name: 'web' }], strategy: 'restart', wait: true, timeoutSeconds: 600
  })
})

t.test('a deployments table chooses its strategy: digest, or restart (the default); anything else lists both', async t => {
  const toml = MINIMAL_CONFIG + '\n[projects.deployments]\nnamespace = "demo"\nresources = ["deployment/web"]\nstrategy = "digest"\n'
  t.equal(parseConfig(toml, SOURCE).projects[0]!.deployments!.strategy, 'digest')
  t.same(problemsOf(toml.replace('"digest"', '"recreate"')), ["projects[0].deployments.strategy: must be one of 'restart', 'digest'"])
})

t.test('missing required keys are reported with their path', async t => {
  t.same(problemsOf(edit('branch = "main"', '')), ['projects[0].code.branch: is required'])
  t.same(problemsOf(edit('tag = "latest"', '')), ['projects[0].image[0].tag: is required'])
  t.same(problemsOf(edit('registry = "registry.test"', '')), ['app.registry: is required'])
  t.same(problemsOf(''), ['app: is required', 'projects: is required'])
  t.same(problemsOf('[app]\nregistry = "r.test"\n'), ['projects: is required'])
  t.same(problemsOf('projects = []\n[app]\nregistry = "r.test"\n'), ['projects: must have at least one entry'])
})

t.test('empty required strings are reported', async t => {
  t.same(problemsOf(edit('name = "Demo"', 'name = ""')), ['projects[0].name: must not be empty'])
  t.same(problemsOf(edit('url = "https://git.test/org/demo"', 'url = ""')), ['projects[0].code.url: must not be empty'])
})

t.test('values of the wrong type are reported in TOML terms', async t => {
  t.same(problemsOf(edit('tag = "latest"', 'tag = 1')), ['projects[0].image[0].tag: must be a string'])
  t.same(problemsOf(edit('[projects.code]\nurl', 'code = "x"\n[projects.other]\nurl')), [
    'projects[0].code: must be a table',
    'projects[0].other: unknown key (allowed: name, slug, code, image, deployments, webhook, status, notify)'
  ])
  t.same(problemsOf(MINIMAL_CONFIG + '[projects.deployments]\nnamespace = "d"\nresources = "deployment/web"\nwait = "yes"\n'), [
    'projects[0].deployments.resources: must be an array',
    'projects[0].deployments.wait: must be true or false'
  ])
  t.same(problemsOf(MINIMAL_CONFIG + '[app.builder]\nmax_concurrent_builds = 1.5\n'), ['app.builder.max_concurrent_builds: must be an integer'])
  t.same(problemsOf(MINIMAL_CONFIG + '[app.builder]\ntimeout_seconds = 1979-05-27\n'), ['app.builder.timeout_seconds: must be an integer'])
})

t.test('numbers out of range are reported', async t => {
  t.same(problemsOf(MINIMAL_CONFIG.replace('[app]\n', '[app]\nkeep_builds = 0\n') + '[app.builder]\nmax_concurrent_builds = 0\ntimeout_seconds = 100000\nshutdown_grace_seconds = -1\n'), [
    'app.builder.max_concurrent_builds: must be at least 1',
    'app.builder.shutdown_grace_seconds: must be at least 0',
    'app.builder.timeout_seconds: must be at most 86400',
    'app.keep_builds: must be at least 1'
  ])
})

t.test('unknown keys are errors, with the key they were probably meant to be', async t => {
  t.same(problemsOf(edit('branch = "main"', 'brnach = "main"')), [
    'projects[0].code.branch: is required',
    "projects[0].code.brnach: unknown key (did you mean 'branch'?)"
  ])
  t.same(problemsOf(edit('tag = "latest"', 'tag = "latest"\nDockerfile = "x"')), [
    'projects[0].image[0].Dockerfile: unknown key (allowed: repository, location, tag, context, target, platforms, build_args, cache)'
  ])
  t.same(problemsOf(MINIMAL_CONFIG + '[app.builder]\nendpont = "tcp://a:1"\n'), ["app.builder.endpont: unknown key (did you mean 'endpoint'?)"])
  t.same(problemsOf('extra = 1\n' + MINIMAL_CONFIG), ['extra: unknown key (allowed: app, projects)'])
  t.same(problemsOf(MINIMAL_CONFIG + '[projects.deployments]\nnamespace = "d"\nresources = []\n"odd key" = 1\n'), [
    'projects[0].deployments."odd key": unknown key (allowed: namespace, resources, strategy, wait, timeout_seconds)'
  ])
})

t.test('an unknown cache mode lists the allowed ones', async t => {
  t.same(problemsOf(edit('tag = "latest"', 'tag = "latest"\ncache = "s3"')), ["projects[0].image[0].cache: must be one of 'registry', 'inline', 'none'"])
})

t.test('duplicate slugs are reported at the later project', async t => {
  const second = MINIMAL_CONFIG.slice(MINIMAL_CONFIG.indexOf('[[projects]]')).replace('repository = "demo/web"', 'repository = "other"')
  t.same(problemsOf(MINIMAL_CONFIG + second), ["projects[1].slug: duplicate of projects[0].slug ('demo')"])
})

t.test('slugs must be lowercase route segments and not a route of the service', async t => {
  for (const slug of ['My_App', '-demo', 'demo/x', 'dé', 'openapi.json']) {
    t.same(problemsOf(edit('slug = "demo"', `slug = "${slug}"`)), ['projects[0].slug: must match [a-z0-9][a-z0-9-]* (lowercase letters, digits and dashes)'], slug)
  }
  t.same(problemsOf(edit('slug = "demo"', `slug = "${'a'.repeat(64)}"`)), ['projects[0].slug: must be at most 63 characters'])
  for (const slug of ['health', 'ready', 'metrics', 'builds', 'projects', 'docs', 'ui', 'events']) {
    t.same(problemsOf(edit('slug = "demo"', `slug = "${slug}"`)), [`projects[0].slug: '${slug}' is reserved for the service's own route /${slug}`], slug)
  }
})

t.test('code URLs must be https, or http on this machine only', async t => {
  const reject = (url: string, message: string): void => {
    t.same(problemsOf(edit('url = "https://git.test/org/demo"', `url = "${url}"`)), [`projects[0].code.url: ${message}`], url)
  }
  const insecure = 'must be an https URL (http only for localhost or 127.0.0.1)'
  reject('http://github.com/org/repo', insecure)
  reject('git@github.com:org/repo.git', 'must be an https URL of a git repository, e.g. https://github.com/org/repo')
  reject('ssh://git@github.com/org/repo', insecure)
  reject('https://user:secret@github.com/org/repo', 'must not contain credentials: set [projects.code] token_env (or GIT_TOKEN) for private repositories')
  reject('https://github.com/org/repo#main', 'must not contain a query or a #fragment')
  reject('https://github.com', 'must include the repository path, e.g. https://github.com/org/repo')
  for (const url of ['http://localhost:3000/org/repo.git', 'http://127.0.0.1/repo', 'http://[::1]:8080/repo']) {
    t.same(problemsOf(edit('url = "https://git.test/org/demo"', `url = "${url}"`)), [], url)
  }
})

t.test('branches must be valid git branch names', async t => {
  for (const branch of ['feature/x', 'release-1.0', 'v2']) t.same(problemsOf(edit('branch = "main"', `branch = "${branch}"`)), [], branch)
  for (const branch of ['-x', 'a..b', 'a b', 'x.lock', 'x/', '.hidden', 'a:b', '@', 'a@{b']) {
    t.same(problemsOf(edit('branch = "main"', `branch = "${branch}"`)), ['projects[0].code.branch: must be a valid git branch name, e.g. main'], branch)
  }
})

t.test('Dockerfile paths and contexts must be relative and stay inside the repository', async t => {
  const message = "must be a relative path without '..'"
  for (const location of ['/etc/Dockerfile', '../Dockerfile', 'api/../../Dockerfile', 'api\\\\Dockerfile']) {
    t.same(problemsOf(edit('location = "Dockerfile"', `location = "${location}"`)), [`projects[0].image[0].location: ${message}`], location)
  }
  t.same(problemsOf(edit('location = "Dockerfile"', 'location = "Dockerfile"\ncontext = "../x"')), [`projects[0].image[0].context: ${message}`])
  t.same(problemsOf(edit('location = "Dockerfile"', 'location = "web/Dockerfile"\ncontext = "api"')), [
    "projects[0].image[0].location: must be inside the context directory 'api'"
  ])
})

t.test('image repositories and tags must be valid OCI names', async t => {
  const badRepository = 'must be a valid OCI repository name: lowercase [a-z0-9] components separated by /, . _ __ or -'
  for (const repository of ['My/Repo', 'a//b', '-x', 'a/', 'a:b']) {
    t.same(problemsOf(edit('repository = "demo/web"', `repository = "${repository}"`)), [`projects[0].image[0].repository: ${badRepository}`], repository)
  }
  const badTag = 'must be a valid OCI tag: [A-Za-z0-9_][A-Za-z0-9_.-], at most 128 characters'
  for (const tag of ['has space', '.start', '-start', 'a'.repeat(129), 'a:b']) {
    t.same(problemsOf(edit('tag = "latest"', `tag = "${tag}"`)), [`projects[0].image[0].tag: ${badTag}`], tag)
  }
  t.same(problemsOf(edit('tag = "latest"', 'tag = "sha-0123456789ab"')), ["projects[0].image[0].tag: must not look like 'sha-<12 hex>': every build adds that tag for its commit"])
  t.same(problemsOf(edit('tag = "latest"', 'tag = "buildcache"')), ["projects[0].image[0].tag: must not be 'buildcache': the registry cache is stored under that tag"])
  t.same(problemsOf(edit('tag = "latest"', 'tag = "buildcache"\ncache = "inline"')), [], 'buildcache is free when the registry cache is off')
  t.same(problemsOf(edit('repository = "demo/web"', `repository = "${'a'.repeat(250)}"`)), [
    `projects[0].image[0].repository: 'registry.test/${'a'.repeat(250)}' is longer than 255 characters`
  ])
})

t.test('two images of one project may not share a repository, nor two projects an image reference', async t => {
  const twoImages = MINIMAL_CONFIG + '[[projects.image]]\nrepository = "demo/web"\nlocation = "api/Dockerfile"\ntag = "api"\n'
  t.same(problemsOf(twoImages), ["projects[0].image[1].repository: duplicate of projects[0].image[0].repository ('demo/web')"])
  const second = MINIMAL_CONFIG.slice(MINIMAL_CONFIG.indexOf('[[projects]]')).replace('slug = "demo"', 'slug = "demo2"')
  t.same(problemsOf(MINIMAL_CONFIG + second), ["projects[1].image[0].tag: duplicate of projects[0].image[0].tag ('demo/web:latest')"])
})

t.test('registry, builder, platforms, targets, build args and env names are checked', async t => {
  t.same(problemsOf(edit('registry = "registry.test"', 'registry = "https://registry.test"')), ['app.registry: must be a registry host without a scheme, e.g. registry.example.com or ghcr.io/org'])
  t.same(problemsOf(edit('registry = "registry.test"', 'registry = "Registry.test/Org"')), ['app.registry: must be a registry host[:port] with an optional lowercase path, e.g. registry.example.com or ghcr.io/org'])
  t.same(problemsOf(edit('registry = "registry.test"', 'registry = "localhost:5000/team"')), [])
  t.same(problemsOf(MINIMAL_CONFIG + '[app.builder]\nname = "My Builder"\nendpoint = "http://buildkitd:1234"\ntls = { key = "/k.pem" }\n'), [
    'app.builder.endpoint: must be tcp://host:port or unix:///path/to/buildkitd.sock',
    'app.builder.name: must start with a lowercase letter and contain only a-z, 0-9, ., _ and -',
    'app.builder.tls: cert and key must be set together'
  ])
  for (const endpoint of ['tcp://buildkitd', 'tcp://a:1/path', 'unix://', 'not a url']) {
    t.same(problemsOf(MINIMAL_CONFIG + `[app.builder]\nendpoint = "${endpoint}"\n`), ['app.builder.endpoint: must be tcp://host:port or unix:///path/to/buildkitd.sock'], endpoint)
  }
  t.same(problemsOf(MINIMAL_CONFIG + '[app.builder]\nendpoint = "unix:///run/buildkit/buildkitd.sock"\n'), [])
  t.same(problemsOf(edit('tag = "latest"', 'tag = "latest"\nplatforms = ["linux", "linux/amd64", "linux/amd64"]\ntarget = "-x"\nbuild_args = { 1X = "a", "A B" = "c", OK = "b" }')), [
    'projects[0].image[0].build_args."A B": must be a build argument name: [A-Za-z_][A-Za-z0-9_]*',
    'projects[0].image[0].build_args.1X: must be a build argument name: [A-Za-z_][A-Za-z0-9_]*',
    'projects[0].image[0].platforms[0]: must be os/arch[/variant], e.g. linux/amd64 or linux/arm/v7',
    "projects[0].image[0].platforms[2]: duplicate of projects[0].image[0].platforms[1] ('linux/amd64')",
    'projects[0].image[0].target: must be a Dockerfile stage name: a letter, then letters, digits, _ . or -'
  ])
  t.same(problemsOf(MINIMAL_CONFIG + '[app.webhook]\nsecret_env = "MY-SECRET"\n'), ['app.webhook.secret_env: must be the name of an environment variable: [A-Za-z_][A-Za-z0-9_]*'])
  t.same(problemsOf(MINIMAL_CONFIG + '[projects.webhook]\nsecret_env = "1X"\n'), ['projects[0].webhook.secret_env: must be the name of an environment variable: [A-Za-z_][A-Za-z0-9_]*'])
  t.same(problemsOf(edit('branch = "main"', 'branch = "main"\ntoken_env = "my token"')), ['projects[0].code.token_env: must be the name of an environment variable: [A-Za-z_][A-Za-z0-9_]*'])
  t.same(problemsOf(edit('tag = "latest"', 'tag = "latest"\nbuild_args = { A = 1 }')), ['projects[0].image[0].build_args.A: must be a string'])
})

t.test('deployment resources must be kind/name with a kind that rolls out', async t => {
  const deploy = (resources: string, namespace = 'demo'): string =>
    MINIMAL_CONFIG + `[projects.deployments]\nnamespace = "${namespace}"\nresources = ${resources}\n`
  const kindMessage = 'must be kind/name with kind deployment, statefulset or daemonset, e.g. deployment/api'
  t.same(problemsOf(deploy('["service/web", "web", "deployment/Web_1", "deployment/web", "deploy/web"]')), [
    `projects[0].deployments.resources[0]: ${kindMessage}`,
    `projects[0].deployments.resources[1]: ${kindMessage}`,
    "projects[0].deployments.resources[2]: 'Web_1' is not a valid Kubernetes resource name",
    "projects[0].deployments.resources[4]: duplicate of projects[0].deployments.resources[3] ('deployment/web')"
  ])
  t.same(problemsOf(deploy('["deployment/web"]', 'My_NS')), ['projects[0].deployments.namespace: must be a Kubernetes namespace name: lowercase letters, digits and -, at most 63 characters'])
  t.same(problemsOf(deploy('[""]')), ['projects[0].deployments.resources[0]: must not be empty'])
})

t.test('one error lists every problem of the file, in file order, with its source', async t => {
  const toml = MINIMAL_CONFIG.replace('slug = "demo"', 'slug = "Health"').replace('tag = "latest"', 'tag = "a b"') +
    MINIMAL_CONFIG.slice(MINIMAL_CONFIG.indexOf('[[projects]]')).replace('location = "Dockerfile"', 'location = "../x"').replace('repository = "demo/web"', 'repository = "demo/two"')
  const err = t.throws(() => parseConfig(toml, SOURCE)) as ConfigError
  t.equal(err.code, 'BH_CONFIG_INVALID')
  t.equal(err.message, [
    `Invalid configuration in ${SOURCE} (3 problems):`,
    '  - projects[0].image[0].tag: must be a valid OCI tag: [A-Za-z0-9_][A-Za-z0-9_.-], at most 128 characters',
    '  - projects[0].slug: must match [a-z0-9][a-z0-9-]* (lowercase letters, digits and dashes)',
    "  - projects[1].image[0].location: must be a relative path without '..'"
  ].join('\n'))
})

t.test('a single problem is counted as one', async t => {
  const err = t.throws(() => parseConfig(edit('branch = "main"', ''), SOURCE)) as ConfigError
  t.match(err.message, /\(1 problem\):\n {2}- projects\[0\]\.code\.branch: is required$/)
})

t.test('problems are ordered naturally: projects[2] before projects[10]', async t => {
  const project = (i: number): string => MINIMAL_CONFIG.slice(MINIMAL_CONFIG.indexOf('[[projects]]'))
    .replace('slug = "demo"', `slug = "p${i}"`).replace('repository = "demo/web"', `repository = "r${i}"`)
    .replace('name = "Demo"', i === 2 || i === 10 ? 'name = ""' : 'name = "x"')
  const toml = MINIMAL_CONFIG.slice(0, MINIMAL_CONFIG.indexOf('[[projects]]')) + Array.from({ length: 11 }, (_, i) => project(i)).join('')
  t.same(problemsOf(toml), ['projects[2].name: must not be empty', 'projects[10].name: must not be empty'])
})

t.test('every problem of every project is listed, past typebox\'s limit of 8 errors', async t => {
  const projects = Array.from({ length: 12 }, (_, i) => `
[[projects]]
slug = "p${i}"
[projects.code]
url = "https://git.test/org/p${i}"
branch = "main"
[[projects.image]]
repository = "p${i}/web"
location = "Dockerfile"
tag = ${i}
`).join('')
  const err = t.throws(() => parseConfig(`[app]\nregistry = "registry.test"\n${projects}`, SOURCE)) as ConfigError
  const expected = Array.from({ length: 12 }, (_, i) => [
    { path: `projects[${i}].image[0].tag`, message: 'must be a string' },
    { path: `projects[${i}].name`, message: 'is required' }
  ]).flat()
  t.same(err.problems, expected)
  t.equal(err.message.split('\n')[0], `Invalid configuration in ${SOURCE} (24 problems):`)
  t.equal(Settings.Get().maxErrors, 8, 'the guard for other validations is back')
})

t.test('a TOML syntax error names the file, line and column', async t => {
  const dir = t.testdir({ 'config.toml': '[app]\nregistry = "r.test"\n\n[[projects]]\nname = "a\nslug = "b"\n' })
  const file = path.join(dir, 'config.toml')
  const err = t.throws(() => readConfig(file)) as ConfigError
  t.equal(err.code, 'BH_CONFIG_SYNTAX')
  t.match(err.message, new RegExp(`^TOML syntax error in ${file.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}:5:10: Unterminated string\n`))
  t.match(err.message, /5> name = "a/)
})

t.test('a file with a byte that is not UTF-8 names its line, column and value', async t => {
  const dir = t.testdir({ 'config.toml': Buffer.concat([Buffer.from('[app]\nregistry = "r.test"\n# caf'), Buffer.from([0xE9]), Buffer.from('\n')]) })
  const file = path.join(dir, 'config.toml')
  const err = t.throws(() => readConfig(file)) as ConfigError
  t.equal(err.code, 'BH_CONFIG_SYNTAX')
  t.equal(err.message, `TOML syntax error in ${file}:3:6: invalid UTF-8 byte 0xE9 (a TOML file must be UTF-8; this one may have been saved as Latin-1 or Windows-1252: save it again as UTF-8)
2: registry = "r.test"
3> # caf\uFFFD
        ^
4:`)
})

t.test('a file that starts with a byte order mark is read as if it had none', async t => {
  const dir = t.testdir({ 'config.toml': `\uFEFF${MINIMAL_CONFIG}` })
  t.equal(readConfig(path.join(dir, 'config.toml')).projects[0]!.slug, 'demo')
})

t.test('a redefined key is a syntax error too', async t => {
  const err = t.throws(() => parseConfig('a = 1\na = 2\n', SOURCE)) as ConfigError
  t.match(err.message, `TOML syntax error in ${SOURCE}:2:6: Can't redefine existing key`)
})

t.test('a missing config file is reported with the absolute path looked at', async t => {
  const dir = t.testdir({})
  const relative = path.relative(process.cwd(), path.join(dir, 'nope.toml'))
  const err = t.throws(() => readConfig(relative)) as ConfigError
  t.equal(err.code, 'BH_CONFIG_NOT_FOUND')
  t.equal(err.message, `Configuration file not found: ${path.join(dir, 'nope.toml')} (set CONFIG_PATH to its location)`)
})

t.test('an unreadable config path says why', async t => {
  const dir = t.testdir({ 'config.toml': { } })
  const err = t.throws(() => readConfig(path.join(dir, 'config.toml'))) as ConfigError
  t.equal(err.code, 'BH_CONFIG_UNREADABLE')
  t.equal(err.message, `Cannot read configuration file ${path.join(dir, 'config.toml')}: EISDIR`)
})

t.test('a config file is read as UTF-8 from disk', async t => {
  const dir = t.testdir({})
  const file = path.join(dir, 'c.toml')
  writeFileSync(file, MINIMAL_CONFIG.replace('name = "Demo"', 'name = "Démo ✓"'))
  chmodSync(file, 0o644)
  t.equal(readConfig(file).projects[0]!.name, 'Démo ✓')
})
