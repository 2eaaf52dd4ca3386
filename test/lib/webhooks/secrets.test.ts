import t from 'tap'
import { parseConfig } from '../../../lib/config/index.js'
import { resolveWebhookSecrets } from '../../../lib/webhooks/secrets.js'
import { configToml } from '../../helper.js'

t.test('each project gets the secret its variable holds; one without a set variable takes bearer tokens only', async t => {
  const webhook = (name: string): string => `[projects.webhook]\nsecret_env = "${name}"\nallow_sha1 = true\n`
  const settings = parseConfig(configToml([{ slug: 'a', extra: webhook('A_SECRET') }, { slug: 'b', extra: webhook('B_SECRET') }, { slug: 'c', extra: webhook('C_SECRET') }, { slug: 'd' }]), 'c.toml')
  t.same(Object.fromEntries(resolveWebhookSecrets(settings, { A_SECRET: 'secret-a', B_SECRET: '' })), { a: { secret: 'secret-a', allowSha1: true } })
})
