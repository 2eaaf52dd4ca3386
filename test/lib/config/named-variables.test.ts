import t from 'tap'
import { describeUnset, parseConfig, unsetVariables } from '../../../lib/config/index.js'
import { configToml } from '../../helper.js'

const withAppSecret = (toml: string): string => toml.replace('[[projects]]', '[app.webhook]\nsecret_env = "APP_SECRET"\n\n[[projects]]')

t.test('app.webhook.secret_env is named only when a project uses it', async t => {
  const own = '[projects.webhook]\nsecret_env = "OWN_SECRET"\n'
  const everyOwn = parseConfig(withAppSecret(configToml([{ slug: 'a', extra: own }])), 'c.toml')
  t.same(everyOwn.variables, [{ name: 'OWN_SECRET', keys: ['projects[0].webhook.secret_env'] }])
  const sha1Only = parseConfig(withAppSecret(configToml([{ slug: 'a', extra: own }, { slug: 'b', extra: '[projects.webhook]\nallow_sha1 = true\n' }])), 'c.toml')
  t.same(sha1Only.variables, [
    { name: 'APP_SECRET', keys: ['app.webhook.secret_env'] },
    { name: 'OWN_SECRET', keys: ['projects[0].webhook.secret_env'] }
  ], 'a webhook table without secret_env uses the app\'s')
})

t.test('a config that names no variable has none to check', async t => {
  t.same(parseConfig(configToml(), 'c.toml').variables, [])
})

t.test('unset and empty variables are both missing, and said apart', async t => {
  const variables = [{ name: 'A', keys: ['projects[0].code.token_env'] }, { name: 'B', keys: ['x', 'y'] }, { name: 'C', keys: ['z'] }]
  const unset = unsetVariables(variables, { A: '', C: 'value' })
  t.same(unset, [{ name: 'A', keys: ['projects[0].code.token_env'], empty: true }, { name: 'B', keys: ['x', 'y'], empty: false }])
  t.same(unset.map(describeUnset), ['A is set but empty (named by projects[0].code.token_env)', 'B is not set (named by x, y)'])
})
