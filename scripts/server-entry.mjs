// What `node dist/server.js` runs (scripts/bundle.mjs bundles this file, with lib/code-cache.ts, into
// dist/server.js): the bundled server, dist/server.bundle.js, loaded with its V8 code cache, then started.
import { fileURLToPath } from 'node:url'
import { loadBundle } from '../lib/code-cache.js'

// The packages the bundle left outside that are ES modules are imported from here (lib/code-cache.ts).
const { exports, codeCache } = loadBundle(fileURLToPath(new URL('./server.bundle.js', import.meta.url)), specifier => import(specifier))
await exports.serve({ codeCache })
