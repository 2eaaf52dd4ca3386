import path from 'node:path'
import t from 'tap'
import { build, configToml, MINIMAL_CONFIG, writeConfig } from '../helper.js'
import { RESERVED_SLUGS } from '../../lib/config/index.js'
import { checkSlug } from '../../lib/config/rules.js'

t.test('the config plugin decorates the validated environment and settings', async t => {
  const file = writeConfig(t, MINIMAL_CONFIG)
  const app = await build(t, { CONFIG_PATH: file, PORT: '8080', BUILDKIT_HOST: 'tcp://127.0.0.1:1234', UNRELATED_SECRET: 'x' })
  t.equal(app.env.PORT, 8080)
  t.equal(app.env.HOST, '0.0.0.0')
  t.equal(app.env.CONFIG_PATH, file)
  t.notOk('UNRELATED_SECRET' in app.env, 'only the variables the service reads are kept')
  t.equal(app.settings.source, file)
  t.equal(app.settings.builder.endpoint, 'tcp://127.0.0.1:1234', 'BUILDKIT_HOST overrides the endpoint')
  t.ok(Object.isFrozen(app.settings))
})

t.test('an invalid environment fails start-up naming the variable', async t => {
  await t.rejects(build(t, { PORT: 'eighty' }), { code: 'BH_ENV_INVALID', message: 'Invalid environment: env/PORT must be integer' })
  await t.rejects(build(t, { LOG_LEVEL: 'loud' }), { code: 'BH_ENV_INVALID', message: /^Invalid environment: env\/LOG_LEVEL must be equal to one of the allowed values/ })
})

t.test('BUILDKIT_HOST gets the endpoint rules of app.builder.endpoint, and the error names the variable', async t => {
  const file = writeConfig(t, MINIMAL_CONFIG)
  for (const value of ['buildkitd:1234', 'tcp://buildkitd', 'http://buildkitd:1234', 'unix://']) {
    await t.rejects(build(t, { CONFIG_PATH: file, BUILDKIT_HOST: value }), {
      code: 'BH_ENV_INVALID',
      message: 'Invalid environment: BUILDKIT_HOST must be tcp://host:port or unix:///path/to/buildkitd.sock (it replaces app.builder.endpoint)'
    }, value)
  }
  const app = await build(t, { CONFIG_PATH: file, BUILDKIT_HOST: 'unix:///run/buildkit/buildkitd.sock' })
  t.equal(app.settings.builder.endpoint, 'unix:///run/buildkit/buildkitd.sock')
})

t.test('an invalid config fails start-up with every problem', async t => {
  const file = writeConfig(t, MINIMAL_CONFIG.replace('branch = "main"', 'brnach = "main"'))
  await t.rejects(build(t, { CONFIG_PATH: file }), {
    code: 'BH_CONFIG_INVALID',
    message: `Invalid configuration in ${file} (2 problems):\n  - projects[0].code.branch: is required\n  - projects[0].code.brnach: unknown key (did you mean 'branch'?)`
  })
})

t.test('variables the config names but the environment lacks stop start-up, each once with every key that names it', async t => {
  const webhook = (name: string): string => `[projects.webhook]\nsecret_env = "${name}"\n`
  const status = (name: string): string => `[projects.status]\ntoken_env = "${name}"\nprovider = "gitea"\n`
  const notify = (name: string): string => `[[projects.notify]]\nurl = "https://chat.test/x"\nsecret_env = "${name}"\n`
  const toml = configToml([
    { slug: 'p0', extra: webhook('MY_SECRET') },
    { slug: 'p1' },
    { slug: 'p2', extra: webhook('MY_SECRET') + notify('SET_SECRET') + notify('EMPTY_SECRET') },
    { slug: 'p3', extra: status('MY_SECRET') },
    { slug: 'p4', extra: webhook('MY_SECRET') + status('GIT_HOST_TOKEN') }
  ]).replace('[[projects]]', '[app.webhook]\nsecret_env = "DEFAULT_SECRET"\n\n[[projects]]')
    .replace('url = "https://git.test/org/p1"', 'url = "https://git.test/org/p1"\ntoken_env = "GIT_HOST_TOKEN"')
  const file = writeConfig(t, toml)
  await t.rejects(build(t, { CONFIG_PATH: file, SET_SECRET: 'x', EMPTY_SECRET: '' }), {
    code: 'BH_CONFIG_ENV_MISSING',
    message: `Environment variables named in ${file} are not set (4 variables):
  - DEFAULT_SECRET is not set (named by app.webhook.secret_env)
  - MY_SECRET is not set (named by projects[0].webhook.secret_env, projects[2].webhook.secret_env, projects[3].status.token_env, projects[4].webhook.secret_env)
  - GIT_HOST_TOKEN is not set (named by projects[1].code.token_env, projects[4].status.token_env)
  - EMPTY_SECRET is set but empty (named by projects[2].notify[1].secret_env)`
  })
})

t.test('a missing config fails start-up with the absolute path', async t => {
  const dir = t.testdir({})
  await t.rejects(build(t, { CONFIG_PATH: path.join(dir, 'missing.toml') }), {
    code: 'BH_CONFIG_NOT_FOUND',
    message: `Configuration file not found: ${path.join(dir, 'missing.toml')} (set CONFIG_PATH to its location)`
  })
})

t.test('every first path segment the service routes is a reserved slug, or no slug at all', async t => {
  const segments = new Set<string>()
  await build(t, {}, {}, app => {
    app.addHook('onRoute', route => {
      const first = route.url.split('/')[1]
      if (first !== undefined && first !== '' && !first.startsWith(':')) segments.add(first)
    })
  })
  t.ok(segments.has('docs') && segments.has('openapi.json'))
  for (const segment of segments) t.not(checkSlug(segment), null, `/${segment} cannot be a slug`)
  t.match(checkSlug('openapi.json'), /^must match/, "'.' is not allowed in a slug")
  for (const segment of ['docs', 'ui', 'events']) t.ok(RESERVED_SLUGS.includes(segment), `/${segment} is reserved`)
})
