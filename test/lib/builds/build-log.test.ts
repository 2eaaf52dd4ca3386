import { readFileSync } from 'node:fs'
import path from 'node:path'
import t from 'tap'
import { BuildLog, buildLogPath } from '../../../lib/builds/build-log.js'
import { Redactor } from '../../../lib/secrets/redactor.js'
import { tempDir } from '../../helper.js'

t.test('lines are prefixed, redacted, and written under DATA_DIR/logs', async t => {
  const dir = tempDir(t)
  const file = buildLogPath(dir, 7)
  t.equal(file, path.join(dir, 'logs', '7.log'))
  const log = new BuildLog(file, new Redactor(['hunter2-secret']))
  t.equal(log.write('demo/web', 'password is hunter2-secret'), '[demo/web] password is [redacted]')
  await log.close()
  t.equal(readFileSync(file, 'utf8'), '[demo/web] password is [redacted]\n')
})

t.test('past the size cap, lines are counted instead of kept', async t => {
  const file = buildLogPath(tempDir(t), 1)
  const log = new BuildLog(file, new Redactor([]), 30)
  t.equal(log.write('a', '0123456789'), '[a] 0123456789')
  t.equal(log.write('a', '0123456789'), '[a] 0123456789')
  t.equal(log.write('a', '0123456789'), null)
  t.equal(log.write('a', 'x'), null)
  await log.close()
  t.equal(readFileSync(file, 'utf8'), '[a] 0123456789\n[a] 0123456789\n[build-hook] log truncated at 30 bytes: 2 more lines not kept\n')
})

t.test('the redactor replaces each secret in every form it travels in, longest first', async t => {
  const redactor = new Redactor(['s3cret-token', 's3cret-token-longer', undefined, 'short', 'a b&c=d secret'])
  t.equal(redactor.redact('x s3cret-token-longer y s3cret-token'), 'x [redacted] y [redacted]')
  t.equal(redactor.redact(`Authorization: Basic ${Buffer.from('x-access-token:s3cret-token').toString('base64')}`), 'Authorization: Basic [redacted]')
  t.equal(redactor.redact('q=a%20b%26c%3Dd%20secret'), 'q=[redacted]')
  t.equal(redactor.redact('short words stay'), 'short words stay', 'values too short to be secrets are not redacted')
})
