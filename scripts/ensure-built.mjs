// Compiles the TypeScript sources only when dist/ is missing or older than them, so `npm start`
// stays fast (no TypeScript load) after the first build; then bundles the server (scripts/bundle.mjs).
// A bundle whose code cache was written by another Node.js (after switching versions) gets a new one.
import { spawnSync } from 'node:child_process'
import { existsSync, readdirSync, statSync } from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { writeCodeCacheInChild } from './write-code-cache.mjs'

const root = path.dirname(path.dirname(fileURLToPath(import.meta.url)))
const sourceDirs = ['plugins', 'routes', 'lib', 'bin']
const sources = ['app.ts', 'serve.ts', 'server.ts', ...sourceDirs.flatMap(dir => walk(path.join(root, dir)))]

function walk (dir) {
  if (!existsSync(dir)) return []
  return readdirSync(dir, { withFileTypes: true }).flatMap(entry => {
    const full = path.join(dir, entry.name)
    if (entry.isDirectory()) return walk(full)
    return entry.name.endsWith('.ts') && !entry.name.endsWith('.d.ts') ? [path.relative(root, full)] : []
  })
}

// The bundle, dist/server.bundle.js, also holds the dependencies (scripts/bundle.mjs): an `npm install` or
// `npm update`, which runs no `prepare`, or a change to how it is bundled or started, makes it stale as well.
const bundleInputs = ['package-lock.json', 'node_modules/.package-lock.json', 'scripts/bundle.mjs', 'scripts/env-schema-ajv.cjs', 'scripts/server-entry.mjs', 'scripts/write-code-cache.mjs', 'tsconfig.json', 'tsconfig.build.json']

/**
 * Compiles and bundles what is stale, then makes sure the bundle has a code cache; returns the exit status
 * of what failed (tsc's, the bundling's), or 0 (also when no cache could be written: it only makes the
 * start slower).
 */
export async function ensureBuilt () {
  const stale = sources.filter(source => {
    const output = path.join(root, 'dist', source.replace(/\.ts$/, '.js'))
    return !existsSync(output) || statSync(output).mtimeMs < statSync(path.join(root, source)).mtimeMs
  })
  // Against the bundle itself, and not only tsc's output: a bundling that failed after tsc left it stale.
  const bundled = path.join(root, 'dist', 'server.bundle.js')
  const changed = existsSync(bundled) ? [...bundleInputs, ...sources].filter(input => existsSync(path.join(root, input)) && statSync(path.join(root, input)).mtimeMs > statSync(bundled).mtimeMs) : null
  if (stale.length === 0 && changed?.length === 0) return ensureCodeCache(bundled)
  const why = stale.length > 0 ? `${stale.length} changed source file${stale.length === 1 ? '' : 's'}` : changed === null ? 'not bundled yet' : `${changed.join(', ')} changed`
  process.stderr.write(`build-hook: compiling (${why})\n`)
  const tsc = path.join(root, 'node_modules', 'typescript', 'bin', 'tsc')
  const result = spawnSync(process.execPath, [tsc, '-p', path.join(root, 'tsconfig.build.json')], { stdio: 'inherit' })
  if (result.status !== 0) return result.status ?? 1
  // Then the server's single file and what starts it (esbuild prints what stops it), then its code cache.
  const bundle = spawnSync(process.execPath, [path.join(root, 'scripts', 'bundle.mjs'), '--no-code-cache'], { stdio: 'inherit' })
  if (bundle.status !== 0) return bundle.status ?? 1
  return ensureCodeCache(bundled)
}

/**
 * Writes the bundle's code cache anew unless the one next to it was written for it by this Node.js (after
 * switching Node.js versions). The server starts without one, only slower: a failure is said, not fatal.
 */
async function ensureCodeCache (bundled) {
  const { codeCacheFits } = await import('../dist/lib/code-cache.js')
  if (codeCacheFits(bundled)) return 0
  process.stderr.write(`build-hook: writing the code cache for Node.js ${process.version}\n`)
  const failed = writeCodeCacheInChild(bundled)
  if (failed !== null) process.stderr.write(`build-hook: could not write the code cache (${failed}): the server starts without it\n`)
  return 0
}

// Run as a script (`node scripts/ensure-built.mjs`, before the CLI and the benchmarks): compile, and say how it went.
if (process.argv[1] !== undefined && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  process.exitCode = await ensureBuilt()
}
