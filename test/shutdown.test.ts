import t from 'tap'
import { isRunning } from '../lib/process/proc-stat.js'
import { FakeDocker } from './fixtures/docker.js'
import { configToml, eventually, serverEnv, writeConfig } from './helper.js'
import { commit, killLeftovers, start, storeOf, TOKEN, trigger } from './server-process.js'

/** Reads a streamed body to its end. */
async function readAll (body: ReadableStream<Uint8Array>, onText: (text: string) => void = () => {}): Promise<string> {
  const decoder = new TextDecoder()
  let text = ''
  for await (const chunk of body) {
    text += decoder.decode(chunk, { stream: true })
    onText(text)
  }
  return text + decoder.decode()
}

t.test('SIGTERM with a log follower open: the follower gets a last line and ends, the running build is cancelled', async t => {
  const config = writeConfig(t, configToml([{ slug: 'demo' }], 'shutdown_grace_seconds = 1'))
  const env = await serverEnv(t, { CONFIG_PATH: config })
  const docker = new FakeDocker(env.DOCKER_CONFIG!)
  killLeftovers(t, docker)
  docker.control({ images: { 'registry.test/demo/web': { hang: true } } })
  const { server, base } = await start(t, env)
  const id = await trigger(base, 'demo', commit(1))
  await eventually(() => docker.calls().find(call => call.event === 'hanging'), 'the build to run')

  const res = await fetch(`${base}/builds/${id}/logs?follow=true`, { headers: { authorization: `Bearer ${TOKEN}` } })
  t.equal(res.status, 200)
  let following: () => void
  const followed = new Promise<void>(resolve => { following = resolve })
  const body = readAll(res.body!, text => { if (text.includes(`building registry.test/demo/web at ${commit(1)}`)) following() })
  await followed
  server.child.kill('SIGTERM')
  const text = await body
  t.equal(text.trimEnd().split('\n').at(-1), `[build-hook] build-hook is shutting down: this log ends here; build ${id} goes on for up to 1 s and is then cancelled (GET /builds/${id} has its outcome)`)
  t.same(await server.exited, { code: 0, signal: null })
  t.match(storeOf(t, env.DATA_DIR!).get(id), { status: 'cancelled', attempt: 1, error: 'cancelled: the service shut down' }, 'recorded cancelled, not left to run again')
})

t.test('SIGTERM with a docker that ignores SIGINT: it is SIGKILLed after the kill grace, the build recorded cancelled, then the hook exits 0', async t => {
  const config = writeConfig(t, configToml([{ slug: 'demo' }], 'shutdown_grace_seconds = 0'))
  const env = await serverEnv(t, { CONFIG_PATH: config })
  const docker = new FakeDocker(env.DOCKER_CONFIG!)
  killLeftovers(t, docker)
  docker.control({ images: { 'registry.test/demo/web': { hang: true, ignoreInterrupt: true } } })
  const { server, base } = await start(t, env)
  const id = await trigger(base, 'demo', commit(1))
  const hanging = await eventually(() => docker.calls().find(call => call.event === 'hanging'), 'the build to run')
  server.child.kill('SIGTERM')
  t.same(await server.exited, { code: 0, signal: null }, 'not forced')
  t.notOk(isRunning(hanging.pid), 'the buildx plugin is gone')
  t.match(storeOf(t, env.DATA_DIR!).get(id), { status: 'cancelled', attempt: 1, error: 'cancelled: the service shut down' })
  const log = server.stdout()
  const finishedAt = log.indexOf('"msg":"Build finished."')
  t.not(finishedAt, -1, 'the build finished')
  t.ok(finishedAt < log.indexOf('"msg":"Shut down."'), 'before the hook exited')
})
