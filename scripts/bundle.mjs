// Bundles the server (serve.ts and everything it imports, its dependencies included) into one file,
// dist/server.bundle.js (after tsc: it takes lib/code-cache.ts from dist/). Loading ~1,000 modules one by one took about two thirds of the server's start-up; one
// file loads in a third of the time (bench/results.md, step 6). Then writes, over the dist/server.js tsc
// wrote, what starts it (scripts/server-entry.mjs), and its V8 code cache (lib/code-cache.ts): compiling
// the bundle's functions took about a third of what was left (bench/results.md, step 16).
// Left outside, loaded from node_modules as before: better-sqlite3 (a native addon) and the Kubernetes client
// (imported only when a project deploys). yaml is inside: @fastify/swagger and @fastify/swagger-ui require it
// when they are loaded, and its 80 modules loaded one by one from node_modules took about 45 ms of start-up.
// Stack traces name dist/server.bundle.js and its lines: `node --enable-source-maps dist/server.js` maps
// them to the sources (dist/server.bundle.js.map), loading the bundle without its code cache.
import { build } from 'esbuild'
import { readdirSync, rmSync, writeFileSync } from 'node:fs'
import { readFile } from 'node:fs/promises'
import { wrapBundle } from '../dist/lib/code-cache.js'
import { writeCodeCacheInChild } from './write-code-cache.mjs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'

const root = path.dirname(path.dirname(fileURLToPath(import.meta.url)))
const EXTERNAL = ['better-sqlite3', '@kubernetes/client-node']

// Code that finds files next to itself (`__dirname`): @fastify/swagger-ui its page and assets, @fastify/swagger
// its package.json (for a default title). In a bundle `__dirname` is dist/, so in these packages' files it
// becomes the file's own directory, from the package's as Node resolves it when the server runs (their
// main file is at their root).
const OWN_DIRNAME = /^(.*[\\/]node_modules[\\/](@fastify[\\/]swagger(?:-ui)?))[\\/].*\.js$/
const ownDirname = {
  name: 'own-dirname',
  setup (build) {
    build.onLoad({ filter: OWN_DIRNAME }, async ({ path: file }) => {
      const source = await readFile(file, 'utf8')
      if (!source.includes('__dirname')) return undefined
      const [, packageRoot, name] = OWN_DIRNAME.exec(file)
      // require.resolve() finds the top-level copy: a nested one (another version) would read its files.
      if (packageRoot !== path.join(root, 'node_modules', name)) throw new Error(`bundle.mjs: ${file} is not in the top-level copy of ${name}`)
      const inPackage = path.relative(packageRoot, path.dirname(file)).split(path.sep).filter(part => part !== '')
      const dirname = `require('node:path').join(require('node:path').dirname(require.resolve(${JSON.stringify(name.replaceAll('\\', '/'))}))${inPackage.map(part => `, ${JSON.stringify(part)}`).join('')})`
      return { contents: source.replaceAll('__dirname', dirname), loader: 'js' }
    })
  }
}

// env-schema's `require('ajv')` gets scripts/env-schema-ajv.cjs: Ajv without the meta-schema check of schemas,
// which cost 17 ms of each start of the bundle (bench/results.md, step 18). Only env-schema's: Fastify's Ajv and
// the config's are the package's own. bundleServer fails when env-schema no longer requires ajv.
const ENV_SCHEMA = /[\\/]node_modules[\\/]env-schema[\\/]index\.js$/
function envSchemaAjv () {
  const state = { used: false }
  return {
    state,
    plugin: {
      name: 'env-schema-ajv',
      setup (build) {
        build.onResolve({ filter: /^ajv$/ }, ({ importer }) => {
          if (!ENV_SCHEMA.test(importer)) return undefined
          state.used = true
          return { path: path.join(root, 'scripts', 'env-schema-ajv.cjs') }
        })
      }
    }
  }
}

// The bundle's own header: strict throughout, as the ES modules it is made of are; import.meta.url (see
// `define`); and how it imports the packages left outside, which are ES modules. A dynamic import() in a
// script V8 compiled with a code cache would need an experimental loader (a warning at the first one), so the
// bundle calls the importExternal() its loader gives it (lib/code-cache.ts); loaded by Node's own loader
// (with --enable-source-maps), it imports them itself.
const BANNER = [
  '"use strict";',
  'const __bundleUrl = require("node:url").pathToFileURL(__filename).href;',
  'const __importExternal = typeof importExternal === "function" ? importExternal : specifier => import(specifier);'
].join('\n')

/**
 * The bundle's code with each dynamic import() of a package left outside (as esbuild's metafile lists them)
 * made a call of __importExternal(); throws when esbuild wrote one in a way this does not find.
 */
function importsThroughLoader (code, metafile) {
  const specifiers = new Set(Object.values(metafile.outputs).flatMap(output => output.imports)
    .filter(({ kind, external }) => kind === 'dynamic-import' && external).map(({ path }) => path))
  let rewritten = code
  for (const specifier of specifiers) {
    const call = `import(${JSON.stringify(specifier)})`
    if (!rewritten.includes(call)) throw new Error(`bundle.mjs: esbuild's output has no ${call} to rewrite`)
    rewritten = rewritten.replaceAll(call, `__importExternal(${JSON.stringify(specifier)})`)
  }
  return rewritten
}

/**
 * The bundle's text in ASCII: the comments esbuild keeps may hold other characters (it escapes them
 * everywhere else), and one is enough for V8 to hold all 3 MB in two bytes per character.
 */
function ascii (code) {
  return code.replace(/[^\0-\x7f]/g, char => `\\u${char.charCodeAt(0).toString(16).padStart(4, '0')}`)
}

/**
 * Writes dist/server.bundle.js (and its source map), dist/server.js and, unless `codeCache` is false, the
 * code cache; rejects with esbuild's messages, or why the cache could not be written, when it cannot.
 */
export async function bundleServer ({ codeCache = true } = {}) {
  const bundle = path.join(root, 'dist', 'server.bundle.js')
  // The cache, and what a writer that was killed left of one (lib/code-cache.ts).
  for (const name of readdirSync(path.dirname(bundle))) {
    if (name.startsWith('server.bundle.js.cache')) rmSync(path.join(path.dirname(bundle), name), { force: true })
  }
  const ajvForEnvSchema = envSchemaAjv()
  const { outputFiles, metafile } = await build({
    entryPoints: [path.join(root, 'serve.ts')],
    outfile: bundle,
    write: false,
    metafile: true,
    bundle: true,
    platform: 'node',
    // CommonJS, which V8 can compile with a code cache (an ES module it cannot, but behind a flag), in
    // the function lib/code-cache.ts runs it as (wrapBundle, below).
    format: 'cjs',
    target: 'node20',
    tsconfig: path.join(root, 'tsconfig.build.json'),
    external: EXTERNAL,
    banner: { js: BANNER },
    define: { 'import.meta.url': '__bundleUrl' },
    // Not minified, so names stay as written in stack traces (but for those renamed apart, as `build2`).
    // No keepNames: it sets the name of every function each time one is created, which halved the requests
    // per second of Fastify's per-request closures (GET /health: 15,000/s -> 8,000/s).
    sourcemap: true,
    plugins: [ownDirname, ajvForEnvSchema.plugin],
    logLevel: 'warning',
    // The require.resolve() that ownDirname writes is meant to run, as Node's, when the server does.
    // Only import.meta.url has a value in a CommonJS bundle (`define`): any other use would be undefined.
    logOverride: { 'require-resolve-not-external': 'silent', 'empty-import-meta': 'error' }
  })
  if (!ajvForEnvSchema.state.used) throw new Error('env-schema no longer requires ajv: scripts/env-schema-ajv.cjs is not used (see scripts/bundle.mjs)')
  for (const file of outputFiles) {
    writeFileSync(file.path, file.path === bundle ? wrapBundle(ascii(importsThroughLoader(file.text, metafile))) : file.contents)
  }
  await build({
    entryPoints: [path.join(root, 'scripts', 'server-entry.mjs')],
    outfile: path.join(root, 'dist', 'server.js'),
    allowOverwrite: true,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    logLevel: 'warning'
  })
  // tsc's, for the dist/server.js just replaced.
  rmSync(path.join(root, 'dist', 'server.js.map'), { force: true })
  if (!codeCache) return
  const failed = writeCodeCacheInChild(bundle)
  if (failed !== null) throw new Error(`writing the code cache of ${bundle} failed: ${failed}`)
}

// `node scripts/bundle.mjs [--no-code-cache]` (scripts/ensure-built.mjs writes the cache apart, and starts
// the server without one when it cannot).
if (process.argv[1] !== undefined && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  await bundleServer({ codeCache: !process.argv.includes('--no-code-cache') }).catch(err => {
    // esbuild has printed its own errors; anything else is said here.
    if (err.errors === undefined) process.stderr.write(`build-hook: ${err.message}\n`)
    process.exitCode = 1
  })
}
