import t, { type Test } from 'tap'
import { builderReady, configToml, finished, harness, tempDir, TOKENS, writeConfig } from '../helper.js'
import { startGitServer, type GitServer } from '../fixtures/git-server.js'

// shared contract "Secrets stay where they belong": a Git credential goes to the host it is configured for,
// both from `git ls-remote` and from BuildKit's git fetch, and to no other.

const TOKEN_A = 'token-for-host-a-8f3k2m9q'
const TOKEN_B = 'token-for-host-b-1x7w4r0z'
const GLOBAL = 'global-git-token-5n6b7v8c'
const auth = { authorization: `Bearer ${TOKENS[0]}` }

/** The tokens a git server received, decoded from HTTP Basic x-access-token:<token>; null for none. */
function received (git: GitServer): Array<string | null> {
  return [...new Set(git.authorizations.map(value => value === null ? null : Buffer.from(value.replace(/^Basic /, ''), 'base64').toString().replace(/^x-access-token:/, '')))]
}

interface Options {
  /** The token each git server requires (none: public). */
  require: { a?: string, b?: string }
  /** Whether the projects name their own token variables ([projects.code] token_env). */
  projectTokens: boolean
  env?: (hosts: { a: string, b: string }) => Record<string, string>
}

/** Projects `a` and `b`, each on a git server of its own (two hosts: 127.0.0.1 on two ports). */
async function twoHosts (t: Test, options: Options) {
  const a = await startGitServer(t, tempDir(t), options.require.a === undefined ? {} : { token: options.require.a })
  const b = await startGitServer(t, tempDir(t), options.require.b === undefined ? {} : { token: options.require.b })
  const hosts = { a: new URL(a.url).host, b: new URL(b.url).host }
  let toml = configToml([{ slug: 'a', url: a.url }, { slug: 'b', url: b.url }])
  if (options.projectTokens) {
    toml = toml.replace(`url = "${a.url}"`, `url = "${a.url}"\ntoken_env = "A_GIT_TOKEN"`).replace(`url = "${b.url}"`, `url = "${b.url}"\ntoken_env = "B_GIT_TOKEN"`)
  }
  const h = await harness(t, { CONFIG_PATH: writeConfig(t, toml), A_GIT_TOKEN: TOKEN_A, B_GIT_TOKEN: TOKEN_B, ...options.env?.(hosts) })
  await builderReady(h.app)
  const repository = (token?: string) => token === undefined ? {} : { token }
  h.docker.control({ repositories: { [a.url]: repository(options.require.a), [b.url]: repository(options.require.b) } })
  const trigger = (slug: string) => h.app.inject({ method: 'POST', url: `/${slug}`, headers: auth })
  return { ...h, a, b, hosts, trigger }
}

t.test('two projects on two hosts: each host sees its own project\'s token and nothing else', async t => {
  const { app, docker, a, b, hosts, trigger } = await twoHosts(t, { require: { a: TOKEN_A, b: TOKEN_B }, projectTokens: true, env: () => ({ GIT_TOKEN: GLOBAL }) })
  // No commit: each branch head is resolved with git ls-remote, with the project's own credential.
  t.equal((await trigger('a')).statusCode, 202)
  t.equal((await trigger('b')).statusCode, 202)
  t.same(received(a), [TOKEN_A], 'git sent host a token a only')
  t.same(received(b), [TOKEN_B], 'git sent host b token b only')
  const builds = [await finished(app, 1), await finished(app, 2)]
  t.same(builds.map(build => build.status), ['succeeded', 'succeeded'], builds.map(build => build.error).join())
  const secretFlags = docker.builds().map(call => call.argv![call.argv!.indexOf('--secret') + 1]).sort()
  t.same(secretFlags, [`id=GIT_AUTH_TOKEN.${hosts.a},env=GIT_AUTH_TOKEN`, `id=GIT_AUTH_TOKEN.${hosts.b},env=GIT_AUTH_TOKEN`].sort())
  const fetches = docker.calls().filter(call => call.event === 'git-fetch').map(call => `${call.host!} ${call.secretId!}`).sort()
  t.same(fetches, [`${hosts.a} GIT_AUTH_TOKEN.${hosts.a}`, `${hosts.b} GIT_AUTH_TOKEN.${hosts.b}`].sort(), 'BuildKit offers each host only the secret named for it')
})

t.test('GIT_TOKEN goes to no host outside GIT_TOKEN_HOSTS (default github.com)', async t => {
  const { app, docker, a, b, trigger } = await twoHosts(t, { require: { b: GLOBAL }, projectTokens: false, env: () => ({ GIT_TOKEN: GLOBAL }) })
  t.equal((await trigger('a')).statusCode, 202)
  t.same(received(a), [null], 'no token went to host a')
  t.equal((await trigger('b')).statusCode, 502, 'nor to host b, which needs one')
  t.same(received(b), [null])
  t.equal((await finished(app, 1)).status, 'succeeded')
  t.notOk(docker.builds()[0]!.argv!.includes('--secret'), 'the build offers BuildKit no secret')
})

t.test('GIT_TOKEN (or GITHUB_TOKEN) goes to the hosts listed in GIT_TOKEN_HOSTS, and only to them', async t => {
  for (const variable of ['GIT_TOKEN', 'GITHUB_TOKEN']) {
    const { app, docker, a, b, hosts, trigger } = await twoHosts(t, { require: { b: GLOBAL }, projectTokens: false, env: hosts => ({ [variable]: GLOBAL, GIT_TOKEN_HOSTS: ` github.com , ${hosts.b.toUpperCase()}` }) })
    t.equal((await trigger('a')).statusCode, 202, variable)
    t.equal((await trigger('b')).statusCode, 202, variable)
    t.same(received(a), [null], `${variable}: host a got nothing`)
    t.same(received(b), [GLOBAL], `${variable}: host b got the token`)
    // Both builds may run at once: wait for each, or the first one's fetch may not be recorded yet.
    t.same([(await finished(app, 1)).status, (await finished(app, 2)).status], ['succeeded', 'succeeded'])
    const fetches = docker.calls().filter(call => call.event === 'git-fetch').map(call => `${call.host!} ${call.secretId}`).sort()
    t.same(fetches, [`${hosts.a} null`, `${hosts.b} GIT_AUTH_TOKEN.${hosts.b}`].sort(), `${variable}: only host b's build has a secret`)
    await app.close()
  }
})

t.test('a token variable that the config names but the environment lacks stops start-up, naming it', async t => {
  const toml = configToml([{ slug: 'a', url: 'https://git.test/org/a' }]).replace('url = "https://git.test/org/a"', 'url = "https://git.test/org/a"\ntoken_env = "MISSING_GIT_TOKEN"')
  const file = writeConfig(t, toml)
  await t.rejects(harness(t, { CONFIG_PATH: file }), {
    code: 'BH_CONFIG_ENV_MISSING',
    message: `Environment variables named in ${file} are not set (1 variable):\n  - MISSING_GIT_TOKEN is not set (named by projects[0].code.token_env)`
  })
})
