// Bundles the server (server.ts and everything it imports, its dependencies included) into one file,
// dist/server.js, over the one tsc wrote. Loading ~1,000 modules one by one took about two thirds of the
// server's start-up; one file loads in a third of the time (bench/results.md, step 6).
// Left outside, loaded from node_modules as before: better-sqlite3 (a native addon) and the Kubernetes client
// (imported only when a project deploys). yaml is inside: @fastify/swagger and @fastify/swagger-ui require it
// when they are loaded, and its 80 modules loaded one by one from node_modules took about 45 ms of start-up.
// Stack traces name dist/server.js and its lines: `node --enable-source-maps dist/server.js` maps them to
// the sources (dist/server.js.map).
import { build } from 'esbuild'
import { readFile } from 'node:fs/promises'
import path from 'node:path'
import { fileURLToPath } from 'node:url'

const root = path.dirname(path.dirname(fileURLToPath(import.meta.url)))
const EXTERNAL = ['better-sqlite3', '@kubernetes/client-node']

// @fastify/swagger-ui reads its page and assets from next to its own code (`__dirname`), which a bundle
// does not have: there, `__dirname` becomes the package's directory as Node resolves it when the server runs.
const swaggerUiDirname = {
  name: 'swagger-ui-dirname',
  setup (build) {
    build.onLoad({ filter: /[\\/]@fastify[\\/]swagger-ui[\\/](index|lib[\\/]\w+)\.js$/ }, async ({ path: file }) => {
      const sub = path.basename(path.dirname(file)) === 'lib' ? ", 'lib'" : ''
      const source = await readFile(file, 'utf8')
      const dirname = `require('node:path').join(require('node:path').dirname(require.resolve('@fastify/swagger-ui'))${sub})`
      return { contents: source.replaceAll('__dirname', dirname), loader: 'js' }
    })
  }
}

/** Writes dist/server.js (and its source map); rejects with esbuild's messages when it cannot. */
export async function bundleServer () {
  await build({
    entryPoints: [path.join(root, 'server.ts')],
    outfile: path.join(root, 'dist', 'server.js'),
    allowOverwrite: true,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    tsconfig: path.join(root, 'tsconfig.build.json'),
    external: EXTERNAL,
    // The CommonJS packages inside call require() for Node's modules and for the packages left outside.
    banner: { js: "import { createRequire as __bundleRequire } from 'node:module'; const require = __bundleRequire(import.meta.url);" },
    // Not minified, so names stay as written in stack traces (but for those renamed apart, as `build2`).
    // No keepNames: it sets the name of every function each time one is created, which halved the requests
    // per second of Fastify's per-request closures (GET /health: 15,000/s -> 8,000/s).
    sourcemap: true,
    plugins: [swaggerUiDirname],
    logLevel: 'warning'
  })
}

if (process.argv[1] !== undefined && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  await bundleServer().catch(() => { process.exitCode = 1 })
}
