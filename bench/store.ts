// The build store alone, as the webhook's group commit uses it: `npx tsx bench/store.ts`. Records pushes of
// one project whose first build is running, STORE_BATCH (25) per transaction (recordAll, as about 27 share a
// commit under the webhook bench's full load), each with a new delivery id and commit, in STORE_ROUNDS (6)
// rounds of STORE_PUSHES (20,000), and prints the CPU time (user + system) and the wall time per push, the
// lowest and the median round. For A/B of store changes (bench/results.md, steps 15 on); noisy neighbours
// move single rounds by 20%: alternate the two builds and compare medians. The database grows by every
// round (no retention), the first round includes warming up, and it lives under STORE_DIR (the system's
// temporary folder by default, which may be in memory: fsyncs at checkpoints then cost nothing).
import { randomBytes } from 'node:crypto'
import { BuildStore, type NewBuild } from '../lib/store/build-store.js'
import { median, workDir } from './processes.js'

function positive (name: string, fallback: number): number {
  const value = Number(process.env[name] ?? fallback)
  if (!Number.isInteger(value) || value < 1) throw new Error(`${name} must be a positive integer, not ${process.env[name]}`)
  return value
}
const batch = positive('STORE_BATCH', 25)
const pushes = positive('STORE_PUSHES', 20_000)
const rounds = positive('STORE_ROUNDS', 7)
const dir = workDir('build-hook-store-bench-', { parent: process.env.STORE_DIR })

const push = (): NewBuild => ({
  project: 'web',
  trigger: { source: 'github', event: 'push', delivery: randomBytes(16).toString('hex'), ref: 'refs/heads/main', commit: randomBytes(20).toString('hex'), sender: 'octocat' },
  images: [{ image: 'registry.test/web/app', tags: ['latest'] }],
  deploy: { status: 'pending', namespace: 'web', resources: ['deployment/app'] }
})

const store = new BuildStore(dir)
store.start(store.record(push()).build.id)
const cpu: number[] = []
const wall: number[] = []
for (let round = 0; round < rounds; round++) {
  const commits = Array.from({ length: Math.ceil(pushes / batch) }, () => Array.from({ length: batch }, push))
  const cpuBefore = process.cpuUsage()
  const started = process.hrtime.bigint()
  for (const [i, builds] of commits.entries()) {
    store.recordAll(builds)
    // Now and then back to the event loop, so that a Ctrl-C is handled (and the folder removed) within a moment.
    if (i % 100 === 99) await new Promise(resolve => setImmediate(resolve))
  }
  const used = process.cpuUsage(cpuBefore)
  wall.push(Number(process.hrtime.bigint() - started) / 1000 / (commits.length * batch))
  cpu.push((used.user + used.system) / (commits.length * batch))
}
store.close()
const summary = (values: number[]): string => `lowest ${Math.min(...values).toFixed(1)}, median ${median(values).toFixed(1)} µs`
process.stdout.write(`${batch} pushes per commit, ${rounds} rounds of ${Math.ceil(pushes / batch) * batch}: CPU per push ${summary(cpu)}; wall time per push ${summary(wall)}\n`)
