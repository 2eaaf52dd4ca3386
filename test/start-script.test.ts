import { spawn, type ChildProcess } from 'node:child_process'
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import t, { type Test } from 'tap'
import { codeCacheFile, codeCacheFits } from '../lib/code-cache.js'
import { configToml, ROOT, serverEnv, tempDir, within, writeConfig } from './helper.js'
import { startFakeKube } from './fixtures/kube-api.js'
import { alive, onlyThisEnvironment, runNode, type Exit } from './process.js'
import { LISTENING, TOKEN, commit, trigger } from './server-process.js'

interface NpmStart {
  npm: ChildProcess
  /** Everything npm and the server wrote so far (stdout and stderr). */
  output: () => string
  exited: Promise<number | null>
  url: string
  serverPid: number
}

/** Runs `npm start` as a developer does, until the server listens; whatever is left is killed at the end. */
async function npmStart (t: Test): Promise<NpmStart> {
  // Through `env -i` (which execs npm: the same pid): tap's process tracking and coverage, which it adds to
  // every child's environment, stay out, so the compiled dist/ of `npm start` never counts as covering lib/.
  const npm = spawn('env', [...onlyThisEnvironment({ ...await serverEnv(t), PATH: process.env.PATH }), 'npm', 'start', '--silent'], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] })
  let out = ''
  npm.stdout.on('data', chunk => { out += String(chunk) })
  npm.stderr.on('data', chunk => { out += String(chunk) })
  const exited = new Promise<number | null>(resolve => npm.on('exit', code => resolve(code)))
  // Known once the server has logged it; the teardown reads it whenever it runs.
  const server: { pid?: number } = {}
  t.teardown(async () => {
    if (npm.exitCode === null && npm.signalCode === null) npm.kill('SIGKILL')
    if (server.pid !== undefined && alive(server.pid)) process.kill(server.pid, 'SIGKILL')
  })
  // Compiling a stale dist/ first may take a while on a busy machine.
  const listening = new Promise<void>(resolve => npm.stdout.on('data', () => { if (/Server listening at/.test(out)) resolve() }))
  const gaveUp = exited.then(code => { throw new Error(`npm start exited (${code}) before the server listened:\n${out}`) })
  await within(Promise.race([listening, gaveUp]), 'the server to listen', 120_000)
  server.pid = Number(/"pid":(\d+)/.exec(out)![1])
  return { npm, output: () => out, exited, url: /Server listening at (http:\/\/[^"]+)/.exec(out)![1]!, serverPid: server.pid }
}

// `npm start` as a developer runs it: the server runs in the process npm starts (no shell left in
// between), so a signal to npm's pid (what a terminal's Ctrl-C or a `kill` reaches) shuts the server down
// gracefully and leaves nothing running.
for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  t.test(`${signal} to the pid of \`npm start\` shuts the server down, leaving no process behind`, async t => {
    const { npm, output, exited, serverPid } = await npmStart(t)
    t.not(serverPid, npm.pid, 'the server is a child of npm')
    npm.kill(signal)
    t.equal(await within(exited, 'npm to exit'), 0)
    t.match(output(), new RegExp(`"signal":"${signal}","msg":"Shutting down\\."`))
    t.match(output(), /"msg":"Shut down\."/)
    t.notOk(alive(serverPid), 'the server process is gone')
  })
}

// What `npm start` runs is the one bundled file, dist/server.bundle.js (scripts/bundle.mjs): the files that the
// packages inside it, and the dashboard, find on disk are found from there too.
t.test('the bundled server serves the API docs page and its assets, the dashboard and the OpenAPI document', async t => {
  const { npm, exited, url } = await npmStart(t)
  const get = async (path: string): Promise<{ status: number, type: string | null, body: string }> => {
    const res = await fetch(`${url}${path}`)
    return { status: res.status, type: res.headers.get('content-type'), body: await res.text() }
  }
  const docs = await get('/docs/static/index.html')
  t.equal(docs.status, 200)
  t.match(docs.body, /swagger-ui/)
  const css = await get('/docs/static/swagger-ui.css')
  t.equal(css.status, 200)
  t.match(css.type, /text\/css/)
  t.ok(css.body.length > 10_000, 'the stylesheet itself')
  const ui = await get('/ui/')
  t.equal(ui.status, 200)
  t.match(ui.body, /<script[^>]+app\.js/)
  const openapi = await get('/openapi.json')
  t.equal(openapi.status, 200)
  t.match(JSON.parse(openapi.body), { openapi: /^3\./, paths: { '/builds': {} } })
  npm.kill('SIGTERM')
  t.equal(await within(exited, 'npm to exit'), 0)
})

// What the image runs (the Dockerfile's CMD), from the dist/ `npm start` built above (a test file of its own
// could read dist/ while `npm start` rewrites it): node dist/server.js, which loads the bundle dist/server.bundle.js with
// its code cache (lib/code-cache.ts), and the one package left outside that is an ES module, the Kubernetes
// client, imported the first time a project deploys. No loader or coverage of tap's in its environment.
t.test('the bundle has a code cache written for it by this Node.js', async t => {
  t.ok(codeCacheFits(path.join(ROOT, 'dist', 'server.bundle.js')))
})

// What `npm start` does (scripts/ensure-built.mjs) when the cache next to the bundle does not fit: after
// switching Node.js versions, or when it is missing or damaged, it writes a new one; when it cannot, the
// server starts without one. dist/ is put back as it was, whatever happens.
t.test('npm start writes a new code cache when the one next to the bundle is missing or damaged, and starts without one when it cannot', async t => {
  const bundle = path.join(ROOT, 'dist', 'server.bundle.js')
  const cacheFile = codeCacheFile(bundle)
  // With V8 flags in NODE_OPTIONS, which the cache is written without: the server below starts with none.
  const ensureBuilt = async (): Promise<{ exit: Exit, stderr: string }> => {
    const run = runNode(t, [path.join(ROOT, 'scripts', 'ensure-built.mjs')], { PATH: process.env.PATH, NODE_OPTIONS: '--max-old-space-size=384' })
    return { exit: await within(run.exited, 'ensure-built', 120_000), stderr: run.stderr() }
  }
  t.teardown(async () => {
    rmSync(cacheFile, { recursive: true, force: true })
    const restored = await ensureBuilt()
    if (restored.exit.code !== 0 || !codeCacheFits(bundle)) throw new Error(`dist/ was not put back: ${restored.stderr}`)
  })
  rmSync(cacheFile)
  t.match(await ensureBuilt(), { exit: { code: 0 }, stderr: /writing the code cache for Node\.js/ })
  t.ok(codeCacheFits(bundle), 'written')
  const data = readFileSync(cacheFile)
  data[data.length - 1]! ^= 1
  writeFileSync(cacheFile, data)
  t.match(await ensureBuilt(), { exit: { code: 0 }, stderr: /writing the code cache/ })
  t.ok(codeCacheFits(bundle), 'written again')
  t.match(await ensureBuilt(), { exit: { code: 0 }, stderr: '' }, 'nothing to do')
  rmSync(cacheFile)
  mkdirSync(cacheFile)
  t.match(await ensureBuilt(), { exit: { code: 0 }, stderr: /could not write the code cache \(it exited with 1\): the server starts without it/ })
})

t.test('node dist/server.js starts the bundle with its code cache, then builds and deploys through the Kubernetes client it imports', async t => {
  const kube = await startFakeKube(t, tempDir(t))
  kube.add('deployments', 'demo', 'web', 1)
  // Nothing listens at the repository's host: the head check fails at once and the pushed commit is built.
  const config = writeConfig(t, configToml([{ slug: 'demo', url: 'http://127.0.0.1:9/org/demo', extra: '[projects.deployments]\nnamespace = "demo"\nresources = ["deployment/web"]\n' }]))
  const server = runNode(t, [path.join(ROOT, 'dist', 'server.js')], await serverEnv(t, { CONFIG_PATH: config, KUBECONFIG: kube.kubeconfig }))
  const [, base] = await within(server.waitFor(LISTENING), 'the server to listen', 60_000)
  await within(server.waitFor(/The builder is ready\./), 'the builder', 60_000)
  const id = await trigger(base!, 'demo', commit(1))
  await (await fetch(`${base!}/builds/${id}/logs?follow=true`, { headers: { authorization: `Bearer ${TOKEN}` } })).text()
  const build = await (await fetch(`${base!}/builds/${id}`, { headers: { authorization: `Bearer ${TOKEN}` } })).json() as Record<string, unknown>
  t.match(build, { status: 'succeeded', deploy: { status: 'succeeded', resources: ['deployment/web'] } })
  t.ok(kube.requests.some(request => request.method === 'PATCH' && request.path === '/apis/apps/v1/namespaces/demo/deployments/web'), 'restarted through the API')
  const output = server.stdout() + server.stderr()
  t.notMatch(output, /code cache/, 'the code cache was used (the server warns when it is not)')
  t.notMatch(output, /Warning/, "no warning of Node's either")
  server.child.kill('SIGTERM')
  t.same(await within(server.exited, 'the server to exit'), { code: 0, signal: null })
})

t.test('with Node.js flags the cache was not written under, V8 refuses it: the server says so, and starts all the same', async t => {
  const server = runNode(t, ['--max-old-space-size=384', path.join(ROOT, 'dist', 'server.js')], await serverEnv(t))
  const [, base] = await within(server.waitFor(LISTENING), 'the server to listen', 60_000)
  t.equal((await fetch(`${base!}/health`)).status, 200)
  const notice = server.stdout().split('\n').filter(line => /code cache/.test(line)).map(line => JSON.parse(line) as Record<string, unknown>)
  t.match(notice, [{ level: 30, codeCache: 'rejected', msg: /--max-old-space-size/ }])
  server.child.kill('SIGTERM')
  t.same(await within(server.exited, 'the server to exit'), { code: 0, signal: null })
})

// env-schema's Ajv in the bundle skips the meta-schema check of schemas (scripts/env-schema-ajv.cjs), not of values.
t.test('the bundled server still refuses an environment its schema does not allow, and says why', async t => {
  const server = runNode(t, [path.join(ROOT, 'dist', 'server.js')], await serverEnv(t, { PORT: 'eighty' }))
  t.same(await within(server.exited, 'the server to exit'), { code: 1, signal: null })
  t.match(server.stderr(), /build-hook: Invalid environment: env\/PORT must be integer/)
})
