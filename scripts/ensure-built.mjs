// Compiles the TypeScript sources only when dist/ is missing or older than them, so `npm start`
// stays fast (no TypeScript load) after the first build; then bundles the server (scripts/bundle.mjs).
import { spawnSync } from 'node:child_process'
import { existsSync, readdirSync, statSync } from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'

const root = path.dirname(path.dirname(fileURLToPath(import.meta.url)))
const sourceDirs = ['plugins', 'routes', 'lib', 'bin']
const sources = ['app.ts', 'server.ts', ...sourceDirs.flatMap(dir => walk(path.join(root, dir)))]

function walk (dir) {
  if (!existsSync(dir)) return []
  return readdirSync(dir, { withFileTypes: true }).flatMap(entry => {
    const full = path.join(dir, entry.name)
    if (entry.isDirectory()) return walk(full)
    return entry.name.endsWith('.ts') && !entry.name.endsWith('.d.ts') ? [path.relative(root, full)] : []
  })
}

// dist/server.js also holds the dependencies (scripts/bundle.mjs): an `npm install` or `npm update`, which
// runs no `prepare`, or a change to how it is bundled, makes it stale as well.
const bundleInputs = ['package-lock.json', 'node_modules/.package-lock.json', 'scripts/bundle.mjs', 'tsconfig.json', 'tsconfig.build.json']

/** Compiles what is stale; returns the compiler's exit status (0 when nothing needed compiling). */
export function ensureBuilt () {
  const stale = sources.filter(source => {
    const output = path.join(root, 'dist', source.replace(/\.ts$/, '.js'))
    return !existsSync(output) || statSync(output).mtimeMs < statSync(path.join(root, source)).mtimeMs
  })
  const bundled = path.join(root, 'dist', 'server.js')
  const changed = existsSync(bundled) ? bundleInputs.filter(input => existsSync(path.join(root, input)) && statSync(path.join(root, input)).mtimeMs > statSync(bundled).mtimeMs) : []
  if (stale.length === 0 && changed.length === 0) return 0
  const why = stale.length > 0 ? `${stale.length} changed source file${stale.length === 1 ? '' : 's'}` : `${changed.join(', ')} changed`
  process.stderr.write(`build-hook: compiling (${why})\n`)
  const tsc = path.join(root, 'node_modules', 'typescript', 'bin', 'tsc')
  const result = spawnSync(process.execPath, [tsc, '-p', path.join(root, 'tsconfig.build.json')], { stdio: 'inherit' })
  if (result.status !== 0) return result.status ?? 1
  // Then the server's single file over tsc's dist/server.js (esbuild prints what stops it).
  const bundle = spawnSync(process.execPath, [path.join(root, 'scripts', 'bundle.mjs')], { stdio: 'inherit' })
  return bundle.status ?? 1
}

// Run as a script (`node scripts/ensure-built.mjs`, before the CLI and the benchmarks): compile, and say how it went.
if (process.argv[1] !== undefined && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  process.exitCode = ensureBuilt()
}
