import path from 'node:path'
import t from 'tap'
import type { BuildRecord } from '../lib/schemas/build.js'
import { isRunning, readProcStat } from '../lib/process/proc-stat.js'
import { FakeDocker } from './fixtures/docker.js'
import { configToml, eventually, serverEnv, tempDir, writeConfig } from './helper.js'
import { commit, killLeftovers, start, storeOf, trigger } from './server-process.js'

t.test('SIGKILL mid-build: a new process on the same DATA_DIR runs that build again and every queued one', async t => {
  const config = writeConfig(t, configToml([{ slug: 'p1' }, { slug: 'p2' }, { slug: 'p3' }], 'max_concurrent_builds = 1'))
  const env = await serverEnv(t, { CONFIG_PATH: config })
  const docker = new FakeDocker(env.DOCKER_CONFIG!)
  killLeftovers(t, docker)
  docker.control({ images: { 'registry.test/p1/web': { hang: true } } })

  const first = await start(t, env)
  const ids = [await trigger(first.base, 'p1', commit(1)), await trigger(first.base, 'p2', commit(2)), await trigger(first.base, 'p3', commit(3))]
  await eventually(() => docker.calls().find(call => call.event === 'hanging'), 'p1 to be building')
  first.server.child.kill('SIGKILL')
  t.same(await first.server.exited, { code: null, signal: 'SIGKILL' })

  const store = storeOf(t, env.DATA_DIR!)
  t.same(ids.map(id => store.get(id)!.status), ['running', 'queued', 'queued'], 'what the dead process left')
  docker.control({})
  const second = await start(t, env)
  const done = await eventually(() => {
    const builds = ids.map(id => store.get(id)!)
    return builds.every(build => build.status === 'succeeded') ? builds : undefined
  }, 'every build to succeed')
  t.same(done.map((build: BuildRecord) => [build.id, build.attempt]), [[1, 2], [2, 1], [3, 1]], 'the interrupted build ran again as attempt 2')
  t.match(second.server.stdout(), /"requeued":\[1\].*"msg":"Recovered builds left by a previous process\."/)
  second.server.child.kill('SIGTERM')
  t.same(await second.server.exited, { code: 0, signal: null })
})

t.test('SIGTERM: a build that ends within the grace period succeeds, one that does not is cancelled, queued ones stay', async t => {
  const gate = path.join(tempDir(t), 'release')
  const config = writeConfig(t, configToml([{ slug: 'quick' }, { slug: 'slow' }], 'shutdown_grace_seconds = 3'))
  const env = await serverEnv(t, { CONFIG_PATH: config })
  const docker = new FakeDocker(env.DOCKER_CONFIG!)
  killLeftovers(t, docker)
  docker.control({ images: { 'registry.test/quick/web': { waitForFile: gate }, 'registry.test/slow/web': { hang: true } } })

  const { server, base } = await start(t, env)
  const quick = await trigger(base, 'quick', commit(1))
  const slow = await trigger(base, 'slow', commit(2))
  const queued = await trigger(base, 'quick', commit(3))
  await eventually(() => docker.calls().some(call => call.event === 'waiting') && docker.calls().some(call => call.event === 'hanging') ? true : undefined, 'both builds to run')
  server.child.kill('SIGTERM')
  await server.waitFor(/Waiting for running builds before shutting down\./)
  const { writeFileSync } = await import('node:fs')
  writeFileSync(gate, '')
  t.same(await server.exited, { code: 0, signal: null })

  const store = storeOf(t, env.DATA_DIR!)
  t.match(store.get(quick), { status: 'succeeded' })
  t.match(store.get(slow), { status: 'cancelled', error: 'cancelled: the service shut down' })
  t.match(store.get(queued), { status: 'queued' }, 'for the next start')
  t.equal(docker.builds().length, 2, 'the queued build did not start during shutdown')
})

t.test('a docker child that outlived a SIGKILLed hook is ended on the next start, before its build runs again', async t => {
  const config = writeConfig(t, configToml([{ slug: 'p1' }]))
  const env = await serverEnv(t, { CONFIG_PATH: config })
  const docker = new FakeDocker(env.DOCKER_CONFIG!)
  killLeftovers(t, docker)
  docker.control({ images: { 'registry.test/p1/web': { hang: true } } })

  const first = await start(t, env)
  const id = await trigger(first.base, 'p1', commit(1))
  const plugin = await eventually(() => docker.calls().find(call => call.event === 'hanging'), 'p1 to be building')
  const cli = docker.builds()[0]!
  first.server.child.kill('SIGKILL')
  await first.server.exited
  t.ok(isRunning(cli.pid) && isRunning(plugin.pid), 'docker and its buildx plugin live on, in a group of their own')
  const store = storeOf(t, env.DATA_DIR!)
  const groups = store.processGroups
  t.match(groups.list(), [{ pgid: cli.pid, buildId: id, command: 'docker buildx build', startTime: readProcStat(cli.pid)!.startTime }], 'its group was recorded')

  docker.control({})
  const second = await start(t, env)
  const build = await eventually(() => { const b = store.get(id)!; return b.status === 'succeeded' ? b : undefined }, 'the build to run again and succeed')
  t.equal(build.attempt, 2)
  t.notOk(isRunning(cli.pid) || isRunning(plugin.pid), 'the old docker is gone')
  const interrupted = docker.calls().find(call => call.event === 'interrupted' && call.pid === plugin.pid)
  const rerun = docker.calls().filter(call => call.event === 'started').at(-1)!
  t.ok(interrupted !== undefined && interrupted.time! <= rerun.time!, 'the old build was interrupted before the rerun started')
  const log = second.server.stdout()
  t.match(log, new RegExp(`"pgid":${cli.pid},"buildId":${id},"command":"docker buildx build","outcome":"interrupted","msg":"Ended a docker process group left running by a previous process\\."`))
  t.ok(log.indexOf('left running by a previous process') < log.indexOf('"msg":"Build started."'), 'ended before the build started again')
  t.same(groups.list(), [], 'the records of children that exited are cleared')
  second.server.child.kill('SIGTERM')
  t.same(await second.server.exited, { code: 0, signal: null })
})
