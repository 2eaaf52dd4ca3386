import t from 'tap'
import { gitHost, parseTokenHosts, resolveGitCredentials } from '../../../lib/git/credentials.js'
import { parseConfig } from '../../../lib/config/index.js'
import { configToml } from '../../helper.js'

t.test('the host is taken as written, with its port, as BuildKit names its secrets', async t => {
  t.equal(gitHost('https://github.com/org/repo'), 'github.com')
  t.equal(gitHost('https://GitHub.com:443/org/repo'), 'GitHub.com:443')
  t.equal(gitHost('http://127.0.0.1:8080/app.git'), '127.0.0.1:8080')
  t.equal(gitHost('https://user@git.example/x'), 'git.example')
  t.throws(() => gitHost('git.example/x'), { message: 'not an absolute URL: git.example/x' })
})

t.test('GIT_TOKEN_HOSTS: comma separated, trimmed, without case; github.com when unset', async t => {
  t.same([...parseTokenHosts(undefined)], ['github.com'])
  t.same([...parseTokenHosts(' GitHub.com , git.example:8443,, ')], ['github.com', 'git.example:8443'])
  t.same([...parseTokenHosts('')], [])
})

t.test('a project\'s own token first; GIT_TOKEN only for listed hosts; GITHUB_TOKEN as its other name', async t => {
  const settings = parseConfig(configToml([
    { slug: 'own', url: 'https://gitlab.example/a' },
    { slug: 'listed', url: 'https://github.com/org/b' },
    { slug: 'other', url: 'https://git.example/c' }
  ]).replace('url = "https://gitlab.example/a"', 'url = "https://gitlab.example/a"\ntoken_env = "OWN_TOKEN"'), 'test.toml')
  const credentials = resolveGitCredentials(settings, { OWN_TOKEN: 'own-token-value', GIT_TOKEN: 'global-token-value' })
  t.same(Object.fromEntries(credentials), {
    own: { host: 'gitlab.example', token: 'own-token-value' },
    listed: { host: 'github.com', token: 'global-token-value' },
    other: null
  })
  const github = resolveGitCredentials(settings, { OWN_TOKEN: 'x'.repeat(8), GITHUB_TOKEN: 'github-token-value', GIT_TOKEN_HOSTS: 'git.example' })
  t.same([github.get('listed'), github.get('other')], [null, { host: 'git.example', token: 'github-token-value' }])
  t.same(resolveGitCredentials(settings, { OWN_TOKEN: 'x'.repeat(8), GIT_TOKEN: '' }).get('listed'), null, 'an empty GIT_TOKEN is none')
})

t.test('a project whose token variable is unset has no credential (start-up stops before that: requireNamedVariables)', async t => {
  const settings = parseConfig(configToml([{ slug: 'own', url: 'https://gitlab.example/a' }]).replace('url = "https://gitlab.example/a"', 'url = "https://gitlab.example/a"\ntoken_env = "OWN_TOKEN"'), 'test.toml')
  t.same(Object.fromEntries(resolveGitCredentials(settings, { GIT_TOKEN: 'global-token-value', GIT_TOKEN_HOSTS: 'gitlab.example' })), { own: null })
})
