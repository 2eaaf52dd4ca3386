import t from 'tap'
import { runProcess } from '../../../lib/process/run-process.js'
import { childEnv } from '../../../lib/process/child-env.js'

const env = { PATH: process.env.PATH! }

t.test('stdout and stderr arrive line by line, and the exit status is kept', async t => {
  const lines: string[] = []
  const result = await runProcess(process.execPath, ['-e', 'console.log("a\\nb"); console.error("c"); process.exit(3)'], { env, onLine: (line, stream) => lines.push(`${stream}:${line}`) })
  t.same(result, { code: 3, spawnError: null, aborted: false })
  t.same(lines.filter(line => line.startsWith('stdout')), ['stdout:a', 'stdout:b'])
  t.same(lines.filter(line => line.startsWith('stderr')), ['stderr:c'])
})

t.test('a command that does not exist is a spawn error, not a rejection', async t => {
  const result = await runProcess('no-such-command-build-hook', [], { env })
  t.equal(result.code, null)
  t.equal(result.spawnError?.code, 'ENOENT')
})

t.test('the child sees only the environment it is given', async t => {
  const lines: string[] = []
  await runProcess(process.execPath, ['-e', 'console.log(Object.keys(process.env).filter(k => !/^(NODE_OPTIONS|_TAPJS_)/.test(k)).sort().join(","))'], { env: { PATH: env.PATH, ONLY: '1' }, onLine: line => lines.push(line) })
  t.same(lines, ['ONLY,PATH'])
})

t.test('an abort before the start runs nothing', async t => {
  const result = await runProcess(process.execPath, ['-e', 'require("fs").writeFileSync("/nonexistent/x", "")'], { env, signal: AbortSignal.abort() })
  t.same(result, { code: null, spawnError: null, aborted: true })
})

t.test('an abort sends SIGINT to the group; a child that ignores it is killed after the grace period', async t => {
  const controller = new AbortController()
  const lines: string[] = []
  const running = runProcess(process.execPath, ['-e', 'process.on("SIGINT", () => console.log("ignored")); console.log("up"); setInterval(() => {}, 1000)'], {
    env,
    signal: controller.signal,
    killGraceMs: 2_000, // time enough, on a busy machine, for the child to say it ignored SIGINT
    onLine: line => {
      lines.push(line)
      if (line === 'up') controller.abort()
    }
  })
  const result = await running
  t.same(result, { code: 137, spawnError: null, aborted: true }, 'SIGKILL: 128 + 9')
  t.same(lines, ['up', 'ignored'])
})

t.test('a child that honours SIGINT ends with 130', async t => {
  const controller = new AbortController()
  const result = await runProcess(process.execPath, ['-e', 'console.log("up"); setInterval(() => {}, 1000)'], { env, signal: controller.signal, onLine: () => controller.abort() })
  t.same(result, { code: 130, spawnError: null, aborted: true })
})

t.test('the child environment: PATH (with a fallback), HOME and DOCKER_CONFIG when set, and what the caller adds', async t => {
  t.same(childEnv({}), { PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' })
  t.same(childEnv({ PATH: '/bin', HOME: '/home/hook', DOCKER_CONFIG: '/docker' }, { GIT_AUTH_TOKEN: 't' }), { PATH: '/bin', HOME: '/home/hook', DOCKER_CONFIG: '/docker', GIT_AUTH_TOKEN: 't' })
})
