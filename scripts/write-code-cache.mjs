// `node scripts/write-code-cache.mjs <bundle>`, run by scripts/bundle.mjs and scripts/ensure-built.mjs in a
// process of its own: loads the bundle, runs its warmUp() (serve.ts: a start, with nothing to build and
// nowhere to log), then writes its V8 code cache next to it (lib/code-cache.ts), with the Node.js that
// will run it.
import { writeCodeCache } from '../dist/lib/code-cache.js'

await writeCodeCache(process.argv[2], specifier => import(specifier), exports => exports.warmUp())
// Whatever a module's top-level code left running (a timer, a handle) does not hold the build up.
process.exit(0)
