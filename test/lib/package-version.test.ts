import { mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { pathToFileURL } from 'node:url'
import t from 'tap'
import { packageVersion } from '../../lib/package-version.js'
import { ROOT } from '../helper.js'

t.test("a module's version is the nearest package.json's, however deep the module sits", async t => {
  const dir = t.testdir({ 'package.json': JSON.stringify({ name: 'x', version: '1.2.3' }), 'a.js': '' })
  mkdirSync(path.join(dir, 'dist', 'plugins'), { recursive: true })
  t.equal(packageVersion(pathToFileURL(path.join(dir, 'a.js')).href), '1.2.3')
  t.equal(packageVersion(pathToFileURL(path.join(dir, 'dist', 'plugins', 'a.js')).href), '1.2.3')
  writeFileSync(path.join(dir, 'dist', 'package.json'), JSON.stringify({ version: '9.9.9' }))
  t.equal(packageVersion(pathToFileURL(path.join(dir, 'dist', 'plugins', 'a.js')).href), '9.9.9', 'the nearest one wins')
})

t.test("the service's own version is package.json's", async t => {
  const manifest = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { version: string }
  t.equal(packageVersion(pathToFileURL(path.join(ROOT, 'plugins', 'openapi.ts')).href), manifest.version)
})

t.test('a module with no package.json above it is an error naming it', async t => {
  const file = path.join(path.parse(ROOT).root, 'no-such-dir-build-hook', 'a.js')
  t.throws(() => packageVersion(pathToFileURL(file).href), { code: 'BH_NO_PACKAGE_JSON', message: `No package.json above ${file}` })
})
