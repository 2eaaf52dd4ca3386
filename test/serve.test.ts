import { readdirSync } from 'node:fs'
import os from 'node:os'
import t from 'tap'
import { warmUp } from '../serve.js'

// What `npm run build` runs in a process of its own before it writes the bundle's code cache
// (scripts/write-code-cache.mjs): a start, with nothing to build, that must leave nothing behind.
t.test('the warm-up start composes, starts, asks for /health and closes the app, leaving no folder behind', async t => {
  const ours = (): string[] => readdirSync(os.tmpdir()).filter(name => name.startsWith('build-hook-warm-up-'))
  const before = new Set(ours())
  await warmUp()
  t.same(ours().filter(name => !before.has(name)), [])
})
