// Profiles the server under the webhook load of bench/run.ts: node --cpu-prof, 10 s of signed pushes (PROFILE_SECONDS),
// then the functions with the most self time. npx tsx bench/profile-webhook.ts (PROFILE_RATE=1000: a steady rate instead of full speed;
// PROFILE_SCRIPT=<path>: another build of the server than dist/server.js, for an A/B)
import { createHmac, randomBytes } from 'node:crypto'
import { readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import autocannon from 'autocannon'
import { FAKE_BIN, FakeBuildkit, FakeDocker } from '../test/fixtures/docker.js'
import { pushPayload } from '../test/fixtures/webhooks/deliveries.js'
import { productionNodeArgs, startNode, waitFor, workDir } from './processes.js'

const work = workDir('build-hook-profile-')
const secret = 'profile-secret'
// As in bench/run.ts: nothing listens there, so the one head check fails at once.
const REPOSITORY = 'http://127.0.0.1:9/octo-org/hello-world'
const buildkit = await new FakeBuildkit().start()
const docker = new FakeDocker(path.join(work, 'docker'))
// As in bench/run.ts: the project's first build waits, so that no build takes CPU from the server.
docker.control({ images: { 'registry.test/hooked/web': { waitForFile: path.join(work, 'never') } } })
writeFileSync(path.join(work, 'config.toml'), `[app]\nregistry = "registry.test"\n[app.builder]\nshutdown_grace_seconds = 1\n[[projects]]\nname = "hooked"\nslug = "hooked"\ncode = { url = "${REPOSITORY}", branch = "main" }\nwebhook = { secret_env = "SECRET" }\n[[projects.image]]\nrepository = "hooked/web"\nlocation = "Dockerfile"\ntag = "latest"\n`)
const profiles = path.join(work, 'profiles')
const server = await startNode(process.env.PROFILE_SCRIPT ?? 'dist/server.js', {
  NODE_ENV: 'production',
  HOST: '127.0.0.1',
  PORT: '0',
  LOG_LEVEL: process.env.PROFILE_LOG_LEVEL ?? 'info',
  BEARER_TOKENS: 'token',
  SECRET: secret,
  CONFIG_PATH: path.join(work, 'config.toml'),
  DATA_DIR: path.join(work, 'data'),
  DOCKER_CONFIG: docker.configDir,
  HOME: work,
  BUILDKIT_HOST: buildkit.endpoint,
  PATH: `${FAKE_BIN}:${process.env.PATH ?? ''}`
}, /Server listening at (http:\/\/127\.0\.0\.1:\d+)/, path.join(work, 'server.log'), [...productionNodeArgs(), '--cpu-prof', `--cpu-prof-dir=${profiles}`])
await waitFor(async () => (await fetch(`${server.url}/ready`)).status === 200, 'ready')
const template = JSON.stringify(pushPayload('github', { commit: 'COMMIT_SHA_PLACEHOLDER_0000000000000000', repository: REPOSITORY }))
const result = await autocannon({
  url: `${server.url}/hooked`,
  method: 'POST',
  connections: 50,
  duration: Number(process.env.PROFILE_SECONDS ?? 10),
  ...(process.env.PROFILE_RATE ? { overallRate: Number(process.env.PROFILE_RATE) } : {}),
  requests: [{
    setupRequest: request => {
      const body = template.replaceAll('COMMIT_SHA_PLACEHOLDER_0000000000000000', randomBytes(20).toString('hex'))
      return { ...request, body, headers: { 'content-type': 'application/json', 'x-github-event': 'push', 'x-github-delivery': randomBytes(16).toString('hex'), 'x-hub-signature-256': `sha256=${createHmac('sha256', secret).update(body).digest('hex')}` } }
    }
  }]
})
await server.stop()
await buildkit.stop()
process.stdout.write(`${Math.round(result.requests.average)} req/s, p99 ${result.latency.p99} ms\n`)
const file = readdirSync(profiles).find(name => name.endsWith('.cpuprofile'))!
if (process.env.PROFILE_OUT !== undefined) writeFileSync(process.env.PROFILE_OUT, readFileSync(path.join(profiles, file)))
const profile = JSON.parse(readFileSync(path.join(profiles, file), 'utf8')) as { nodes: Array<{ id: number, callFrame: { functionName: string, url: string, lineNumber: number }, hitCount: number }> }
const self = new Map<string, number>()
for (const node of profile.nodes) {
  const key = `${node.callFrame.functionName || '(anonymous)'} ${node.callFrame.url.replace(/^file:\/\/.*?node_modules\//, '').replace(/^file:\/\/.*\/dist\//, 'dist/')}:${node.callFrame.lineNumber}`
  self.set(key, (self.get(key) ?? 0) + node.hitCount)
}
const total = [...self.values()].reduce((a, b) => a + b, 0)
for (const [key, hits] of [...self.entries()].sort((a, b) => b[1] - a[1]).slice(0, 25)) process.stdout.write(`${(100 * hits / total).toFixed(1).padStart(5)}%  ${key}\n`)
rmSync(work, { recursive: true, force: true })
