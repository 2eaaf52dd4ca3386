import { spawn } from 'node:child_process'
import t from 'tap'
import { ROOT, serverEnv, within } from './helper.js'
import { alive } from './process.js'

// `npm start` as a developer runs it: the server runs in the process npm starts (no shell left in
// between), so a signal to npm's pid (what a terminal's Ctrl-C or a `kill` reaches) shuts the server down
// gracefully and leaves nothing running.
for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  t.test(`${signal} to the pid of \`npm start\` shuts the server down, leaving no process behind`, async t => {
    // Through `env -i` (which execs npm: the same pid): tap's process tracking and coverage, which it adds to
    // every child's environment, stay out, so the compiled dist/ of `npm start` never counts as covering lib/.
    const env = Object.entries({ ...await serverEnv(t), PATH: process.env.PATH }).flatMap(([name, value]) => value === undefined ? [] : [`${name}=${value}`])
    const npm = spawn('env', ['-i', ...env, 'npm', 'start', '--silent'], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] })
    let out = ''
    npm.stdout.on('data', chunk => { out += String(chunk) })
    npm.stderr.on('data', chunk => { out += String(chunk) })
    const exited = new Promise<number | null>(resolve => npm.on('exit', code => resolve(code)))
    let serverPid: number | undefined
    t.teardown(async () => {
      if (npm.exitCode === null && npm.signalCode === null) npm.kill('SIGKILL')
      if (serverPid !== undefined && alive(serverPid)) process.kill(serverPid, 'SIGKILL')
    })
    // Compiling a stale dist/ first may take a while on a busy machine.
    await within(new Promise<void>(resolve => npm.stdout.on('data', () => { if (/Server listening at/.test(out)) resolve() })), 'the server to listen', 120_000)
    serverPid = Number(/"pid":(\d+)/.exec(out)![1])
    t.not(serverPid, npm.pid, 'the server is a child of npm')
    npm.kill(signal)
    t.equal(await within(exited, 'npm to exit'), 0)
    t.match(out, new RegExp(`"signal":"${signal}","msg":"Shutting down\\."`))
    t.match(out, /"msg":"Shut down\."/)
    t.notOk(alive(serverPid), 'the server process is gone')
  })
}
