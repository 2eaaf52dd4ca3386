import { createHmac } from 'node:crypto'
import t from 'tap'
import type { BuildRecord } from '../../../lib/schemas/build.js'
import { notificationRequest } from '../../../lib/notify/notification.js'
import { signBody } from '../../../lib/notify/signature.js'

const BUILD = {
  id: 12,
  project: 'app',
  status: 'succeeded',
  trigger: { source: 'github', event: 'push', delivery: null, ref: 'refs/heads/main', commit: 'a'.repeat(40), sender: 'octo' },
  commit: 'b'.repeat(40)
} as unknown as BuildRecord
const SUMMARY = { state: 'success' as const, description: 'Deployed app/web@sha256:1a2b… to app' }

t.test('a json notification is the build record, with its event in a header', async t => {
  const request = notificationRequest(BUILD, { url: 'https://hooks.test/x?token=abc', format: 'json', projectName: 'App', summary: SUMMARY, buildUrl: null })
  t.same(request, {
    method: 'POST',
    url: 'https://hooks.test/x?token=abc',
    headers: { 'Content-Type': 'application/json', 'User-Agent': 'build-hook', 'X-Build-Hook-Event': 'succeeded' },
    body: JSON.stringify(BUILD)
  })
})

t.test('a slack notification is an incoming-webhook message with a link to the build, its text escaped', async t => {
  const request = notificationRequest(BUILD, { url: 'https://hooks.slack.test/services/T/B/X', format: 'slack', projectName: 'A & <B>', summary: SUMMARY, buildUrl: 'https://hook.test/ui/builds/12' })
  t.same(JSON.parse(request.body), { text: 'A &amp; &lt;B&gt;: build <https://hook.test/ui/builds/12|#12> succeeded: Deployed app/web@sha256:1a2b… to app (`bbbbbbbbbbbb` on main)' })
  const queued = notificationRequest({ ...BUILD, status: 'queued', commit: null }, { url: 'https://hooks.slack.test/x', format: 'slack', projectName: 'App', summary: { state: 'pending', description: 'Queued as build #12' }, buildUrl: null })
  t.same(JSON.parse(queued.body), { text: 'App: build #12 queued: Queued as build #12 (`aaaaaaaaaaaa` on main)' })
})

t.test('the signature is the hex HMAC-SHA256 of the body with the secret, prefixed sha256=', async t => {
  t.equal(signBody('{"a":1}', 'secret'), `sha256=${createHmac('sha256', 'secret').update('{"a":1}').digest('hex')}`)
})
