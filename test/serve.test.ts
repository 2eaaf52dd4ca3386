import { readdirSync } from 'node:fs'
import { runInNewContext } from 'node:vm'
import t from 'tap'
import { warmUp } from '../serve.js'

// What `npm run build` runs in a process of its own before it writes the bundle's code cache
// (scripts/write-code-cache.mjs): a start, with nothing to build, that must leave nothing behind.
t.test('the warm-up start composes and starts the app, has /health answered, closes it and leaves no folder behind', async t => {
  const tmpRoot = t.testdir()
  t.equal(await warmUp({ tmpRoot }), 200)
  t.same(readdirSync(tmpRoot), [])
  // The code cache is written right after, under the flags V8 has then: the idle collector's --expose-gc
  // (set when it first collects, lib/memory/idle-collector.ts) must not be one of them.
  t.equal(runInNewContext('typeof gc'), 'undefined', 'no --expose-gc')
})
