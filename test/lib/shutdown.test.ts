import t from 'tap'
import { BUILDER_KILL_GRACE_MS } from '../../lib/buildx/builder.js'
import { DEFAULT_KILL_GRACE_MS } from '../../lib/process/run-process.js'
import { forcedExitDelayMs, SHUTDOWN_MARGIN_MS } from '../../lib/shutdown.js'

t.test('the forced exit comes after the drain, the grace period, the kill grace and the builder stopping, plus a margin', async t => {
  const times = { drainSeconds: 5, graceSeconds: 120, killGraceMs: DEFAULT_KILL_GRACE_MS }
  t.equal(forcedExitDelayMs(times), 5_000 + 120_000 + DEFAULT_KILL_GRACE_MS + BUILDER_KILL_GRACE_MS + SHUTDOWN_MARGIN_MS)
  t.ok(SHUTDOWN_MARGIN_MS > 0, 'strictly after: a margin for recording the outcomes and closing the store')
  t.equal(forcedExitDelayMs({ ...times, killGraceMs: 2_000 }) - forcedExitDelayMs(times), 2_000 - DEFAULT_KILL_GRACE_MS, 'follows the kill grace it is given')
})
