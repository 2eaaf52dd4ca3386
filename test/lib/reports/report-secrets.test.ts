import t from 'tap'
import { parseConfig } from '../../../lib/config/index.js'
import { ReportSecrets } from '../../../lib/reports/report-secrets.js'
import { configToml } from '../../helper.js'

t.test('status tokens and notify secrets are kept by target; a variable that is not set leaves its target without one', async t => {
  const extra = '[projects.status]\ntoken_env = "STATUS_TOKEN"\nprovider = "gitea"\n\n[[projects.notify]]\nurl = "https://chat.test/a"\nsecret_env = "NOTIFY_SECRET"\n\n[[projects.notify]]\nurl = "https://chat.test/b"\nsecret_env = "UNSET_SECRET"\n'
  const settings = parseConfig(configToml([{ slug: 'demo', extra }]), 'c.toml')
  const secrets = new ReportSecrets(settings, { STATUS_TOKEN: 'status-token', NOTIFY_SECRET: '' })
  t.same([secrets.get('demo', 'status'), secrets.get('demo', 'notify:0'), secrets.get('demo', 'notify:1')], ['status-token', undefined, undefined])
  t.same([...secrets.values()], ['status-token'])
})
