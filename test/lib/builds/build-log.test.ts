import { once } from 'node:events'
import { mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs'
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

t.test('a full disk (ENOSPC) is reported once, as the log\'s failure, and never thrown', async t => {
  const file = buildLogPath(tempDir(t), 1)
  mkdirSync(path.dirname(file))
  symlinkSync('/dev/full', file) // every write to /dev/full fails with ENOSPC
  const log = new BuildLog(file, new Redactor([]), 20)
  const failed = once(log, 'failed')
  const chunks: string[] = []
  log.on('chunk', chunk => chunks.push(chunk))
  t.equal(log.write('a', 'first'), '[a] first', 'accepted before the disk says no')
  t.equal(log.write('a', 'past the twenty byte cap'), null, 'counted as dropped')
  const [err] = await failed as [Error]
  t.equal(err.message, `the build log ${file} could not be written: ENOSPC: no space left on device, write`)
  t.equal(log.failure, err)
  t.equal(log.write('a', 'second'), null, 'later lines are dropped')
  await log.close()
  t.same(chunks, [], 'followers are sent nothing that did not reach the file, not even the truncation notice')
  t.equal(log.flushed, 0)
})

t.test('a log directory that is gone (replaced by a file) fails the log the same way', async t => {
  const dir = tempDir(t)
  writeFileSync(path.join(dir, 'logs'), 'not a directory')
  const log = new BuildLog(buildLogPath(dir, 1), new Redactor([]), 30)
  const [err] = await once(log, 'failed') as [Error]
  t.match(err.message, /^the build log .*\/logs\/1\.log could not be written: ENOTDIR: not a directory/)
  t.equal(log.write('a', '0123456789'), null)
  const ended = once(log, 'end')
  await log.close()
  await ended
  t.equal(readFileSync(path.join(dir, 'logs'), 'utf8'), 'not a directory', 'nothing written over what is there')
})

t.test('the next attempt of a build appends to its log, and what the file holds already counts as flushed', async t => {
  const file = buildLogPath(tempDir(t), 3)
  const first = new BuildLog(file, new Redactor([]))
  first.write('build-hook', 'attempt 1')
  await first.close()
  const second = new BuildLog(file, new Redactor([]))
  t.equal(second.flushed, '[build-hook] attempt 1\n'.length, 'a follower attaching now reads the whole of attempt 1 from the file')
  second.write('build-hook', 'attempt 2')
  await second.close()
  t.equal(second.flushed, readFileSync(file).length)
  t.equal(readFileSync(file, 'utf8'), '[build-hook] attempt 1\n[build-hook] attempt 2\n')
})
