import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { build } from 'esbuild'
import t, { type Test } from 'tap'
import { codeCacheNotice, logCodeCacheUse } from '../../lib/code-cache-notice.js'
import { codeCacheFile, codeCacheFits, loadBundle, wrapBundle, writeCodeCache } from '../../lib/code-cache.js'
import { runTs } from '../process.js'

// tap runs this file with --enable-source-maps: off, but for the test that turns them on.
const sourceMaps = process.sourceMapsEnabled
process.setSourceMapsEnabled(false)
t.teardown(() => process.setSourceMapsEnabled(sourceMaps))

// What the bundles imported through the importExternal() given to them.
const imports: string[] = []
const importExternal = async (specifier: string): Promise<unknown> => {
  imports.push(specifier)
  return await import(specifier)
}

// A bundle as scripts/bundle.mjs writes the server's (CommonJS in the function wrapBundle makes of it):
// strict, using require, __filename, __dirname, and importing an ES module through the importExternal()
// given to it, or itself when Node loads it; `answer` is what a changed bundle changes.
const bundleSource = (answer: number): string => wrapBundle(`"use strict";
const __importExternal = typeof importExternal === "function" ? importExternal : specifier => import(specifier);
exports.answer = ${answer};
exports.where = { file: __filename, dir: __dirname };
exports.self = this === module.exports;
exports.eol = require('node:os').EOL;
exports.later = () => __importExternal('node:path').then(path => path.sep);
exports.warmed = 0;
exports.warmUp = async () => { exports.warmed++ };
exports.fail = function fail () {
  throw new Error('from the bundle');
};
`)

/**
 * How a process of its own loads the bundle: one here would find it compiled already (V8 keeps what it
 * compiled, and does not look at a cache then).
 */
async function loadedElsewhere (t: Test, file: string): Promise<unknown> {
  const child = runTs(t, 'test/fixtures/load-bundle.ts', [file], {})
  t.same(await child.exited, { code: 0, signal: null }, child.stderr())
  return JSON.parse(child.stdout())
}

function writeBundle (t: Test, answer = 42): string {
  const file = path.join(t.testdir(), 'server.bundle.js')
  writeFileSync(file, bundleSource(answer))
  return file
}

t.test('without a cache the bundle runs as Node would run it, and says it had none', async t => {
  const file = writeBundle(t)
  const { exports, codeCache } = loadBundle(file, importExternal)
  t.equal(codeCache, 'none')
  t.equal(exports.answer, 42)
  t.same(exports.where, { file, dir: path.dirname(file) })
  t.equal(exports.self, true, 'this is module.exports, as in a CommonJS module')
  t.equal(exports.eol, '\n', "require() is Node's")
  t.equal(await (exports.later as () => Promise<string>)(), '/', 'an ES module imported')
  t.same(imports, ['node:path'], 'through the importExternal() given')
  t.notOk(codeCacheFits(file))
  const stack = t.throws(() => (exports.fail as () => void)()) as Error
  t.match(stack.stack, `${file}:11:`, "a stack trace names the bundle's own line numbers")
})

t.test('a written cache is used for the bundle it was written for, after the warm-up ran', async t => {
  const file = writeBundle(t)
  let warmed: Record<string, unknown> | undefined
  const cacheFile = await writeCodeCache(file, importExternal, async exports => {
    warmed = exports
    await (exports.warmUp as () => Promise<void>)()
  })
  t.equal(cacheFile, codeCacheFile(file))
  t.equal(warmed?.warmed, 1, 'the warm-up was given the exports')
  const header = JSON.parse(readFileSync(cacheFile, 'utf8').split('\n')[0]!) as Record<string, string>
  t.equal(header.v8, process.versions.v8)
  t.match(header.sha256, /^[0-9a-f]{64}$/)
  t.same(readdirSync(path.dirname(file)).sort(), ['server.bundle.js', 'server.bundle.js.cache'], 'no partial file left')
  t.ok(codeCacheFits(file))
  t.same(await loadedElsewhere(t, file), { codeCache: 'used', answer: 42 })
  t.equal(codeCacheNotice('used'), undefined, 'nothing to say')
})

t.test("a changed bundle never runs the old one's bytecode, even at the same length (all V8 itself checks)", async t => {
  const file = writeBundle(t, 42)
  await writeCodeCache(file, importExternal)
  writeFileSync(file, bundleSource(43))
  t.notOk(codeCacheFits(file))
  const { exports, codeCache } = loadBundle(file, importExternal)
  t.equal(codeCache, 'stale')
  t.equal(exports.answer, 43)
  t.match(codeCacheNotice('stale'), { level: 'warn', message: /npm run build/ })
})

t.test('a cache written by another V8, or that cannot be read as one, is stale: never given to V8', async t => {
  const file = writeBundle(t)
  const cacheFile = await writeCodeCache(file, importExternal)
  const data = readFileSync(cacheFile)
  const body = data.subarray(data.indexOf(10) + 1)
  const header = JSON.parse(data.subarray(0, data.indexOf(10)).toString()) as Record<string, string>
  for (const [what, contents] of [
    ['another V8', Buffer.concat([Buffer.from(`${JSON.stringify({ ...header, v8: '1.2.3' })}\n`), body])],
    ['no header', Buffer.from('no newline at all')],
    ['a header that is not JSON', Buffer.concat([Buffer.from('{"v8":\n'), body])]
  ] as const) {
    writeFileSync(cacheFile, contents)
    t.notOk(codeCacheFits(file), what)
    t.equal(loadBundle(file, importExternal).codeCache, 'stale', what)
  }
  rmSync(cacheFile)
  mkdirSync(cacheFile)
  t.notOk(codeCacheFits(file), 'unreadable')
  t.equal(loadBundle(file, importExternal).codeCache, 'stale', 'unreadable')
})

t.test('a cache V8 refuses (written under other V8 flags) is said so, and the bundle runs all the same', async t => {
  const file = writeBundle(t)
  // V8 checks the flags' hash in its data's header: data from a process with another flag is refused.
  const other = runTs(t, 'test/fixtures/load-bundle.ts', ['--write', file], {})
  t.same(await other.exited, { code: 0, signal: null }, other.stderr())
  t.ok(codeCacheFits(file), 'written for this bundle and this V8')
  t.same(await loadedElsewhere(t, file), { codeCache: 'rejected', answer: 42 })
  t.match(codeCacheNotice('rejected'), { level: 'info', message: /flags/ })
  t.match(codeCacheNotice('none'), { level: 'warn', message: /no code cache/ })
})

t.test('a damaged cache (a bit of its data flipped) is stale: never given to V8', async t => {
  const file = writeBundle(t)
  const cacheFile = await writeCodeCache(file, importExternal)
  const data = readFileSync(cacheFile)
  data[data.length - 100]! ^= 1
  writeFileSync(cacheFile, data)
  t.notOk(codeCacheFits(file))
  t.same(await loadedElsewhere(t, file), { codeCache: 'stale', answer: 42 })
  t.match(codeCacheNotice('stale'), { message: /damaged/ })
})

t.test('with source maps on, Node loads the bundle itself (it maps only what it loads), without the cache', async t => {
  const file = writeBundle(t)
  await writeCodeCache(file, importExternal)
  process.setSourceMapsEnabled(true)
  t.teardown(() => process.setSourceMapsEnabled(false))
  const { exports, codeCache } = loadBundle(file, importExternal)
  t.equal(codeCache, 'source-maps')
  t.equal(exports.answer, 42)
  imports.length = 0
  t.equal(await (exports.later as () => Promise<string>)(), '/', 'Node imports the ES module itself')
  t.same(imports, [])
  t.equal(codeCacheNotice('source-maps'), undefined)
})

t.test('with source maps on, a stack trace names the source the bundle was built from', async t => {
  const dir = t.testdir({ 'fail.ts': 'export function fail (): never {\n  throw new Error(\'mapped\')\n}\n' })
  const built = await build({ entryPoints: [path.join(dir, 'fail.ts')], outfile: path.join(dir, 'out.js'), bundle: true, format: 'cjs', platform: 'node', sourcemap: 'inline', write: false, logLevel: 'silent' })
  const file = path.join(dir, 'server.bundle.js')
  writeFileSync(file, wrapBundle(built.outputFiles[0]!.text))
  process.setSourceMapsEnabled(true)
  t.teardown(() => process.setSourceMapsEnabled(false))
  const { exports, codeCache } = loadBundle(file, importExternal)
  t.equal(codeCache, 'source-maps')
  const error = t.throws(() => (exports.fail as () => never)()) as Error
  t.match(error.stack, `${path.join(dir, 'fail.ts')}:2:`)
})

t.test('nothing is written when the bundle or its warm-up fails, or the cache cannot be put in place', async t => {
  const file = writeBundle(t)
  mkdirSync(codeCacheFile(file))
  await t.rejects(writeCodeCache(file, importExternal), { code: 'EISDIR' })
  t.same(readdirSync(path.dirname(file)).sort(), ['server.bundle.js', 'server.bundle.js.cache'], 'no partial file left')
  rmSync(codeCacheFile(file), { recursive: true })
  await t.rejects(writeCodeCache(file, importExternal, async () => { throw new Error('warm-up failed') }), /warm-up failed/)
  writeFileSync(file, wrapBundle('"use strict";\nthrow new Error("top-level code failed");\n'))
  await t.rejects(writeCodeCache(file, importExternal), /top-level code failed/)
  t.same(readdirSync(path.dirname(file)), ['server.bundle.js'])
})

t.test('a file that is not a bundle as scripts/bundle.mjs writes one is refused, saying so', async t => {
  const file = path.join(t.testdir(), 'server.bundle.js')
  writeFileSync(file, '"use strict";\n42;\n')
  t.throws(() => loadBundle(file, importExternal), { message: `${file} is not a bundle as scripts/bundle.mjs writes one (a function expression)` })
  process.setSourceMapsEnabled(true)
  t.teardown(() => process.setSourceMapsEnabled(false))
  t.throws(() => loadBundle(file, importExternal), /is not a bundle/)
})

t.test('the notice for how the bundle was loaded goes to the log at its level, once; nothing from the sources', async t => {
  const logged: Array<[string, object, string]> = []
  const log = { warn: (fields: object, message: string) => logged.push(['warn', fields, message]), info: (fields: object, message: string) => logged.push(['info', fields, message]) }
  for (const use of [undefined, 'used', 'source-maps', 'stale', 'rejected'] as const) logCodeCacheUse(log, use)
  t.same(logged, [
    ['warn', { codeCache: 'stale' }, codeCacheNotice('stale')!.message],
    ['info', { codeCache: 'rejected' }, codeCacheNotice('rejected')!.message]
  ])
})
