import { spawn, type ChildProcess } from 'node:child_process'
import t, { type Test } from 'tap'
import { ROOT, serverEnv, within } from './helper.js'
import { alive } from './process.js'

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
  const env = Object.entries({ ...await serverEnv(t), PATH: process.env.PATH }).flatMap(([name, value]) => value === undefined ? [] : [`${name}=${value}`])
  const npm = spawn('env', ['-i', ...env, 'npm', 'start', '--silent'], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] })
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

// What `npm start` runs is the one bundled file, dist/server.js (scripts/bundle.mjs): the files that the
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
