import { existsSync, mkdirSync, symlinkSync } from 'node:fs'
import path from 'node:path'
import { Writable } from 'node:stream'
import t, { type Test } from 'tap'
import type { FastifyInstance } from 'fastify'
import { BUILDX_MISSING, DOCKER_MISSING } from '../../lib/buildx/failure.js'
import { GIT_MISSING } from '../../lib/git/git-version.js'
import { FAKE_BIN, FakeDocker } from '../fixtures/docker.js'
import { builderReady, eventually, harness, tempDir } from '../helper.js'

/** A directory holding only links to the given executables: a PATH without anything else. */
function binWith (t: Test, executables: Record<string, string>): string {
  const dir = path.join(tempDir(t), 'bin')
  mkdirSync(dir)
  for (const [name, target] of Object.entries(executables)) symlinkSync(target, path.join(dir, name))
  return dir
}

/** Where `name` is on this machine's PATH. */
function onPath (name: string): string {
  const found = (process.env.PATH ?? '').split(path.delimiter).map(dir => path.join(dir, name)).find(file => existsSync(file))
  if (found === undefined) throw new Error(`no ${name} on PATH`)
  return found
}

/** /ready once its reason is `reason`. */
async function readyWith (app: FastifyInstance, reason: string): Promise<{ statusCode: number, body: Record<string, unknown> }> {
  return eventually(async () => {
    const res = await app.inject({ method: 'GET', url: '/ready' })
    return res.json().reason === reason ? { statusCode: res.statusCode, body: res.json() } : undefined
  }, `/ready to say: ${reason}`)
}

t.test('without docker on PATH, /ready answers 503 naming it', async t => {
  const { app } = await harness(t, { PATH: binWith(t, { git: onPath('git') }) })
  const ready = await readyWith(app, DOCKER_MISSING)
  t.equal(ready.statusCode, 503)
  t.match(ready.body, { status: 'unavailable', reason: DOCKER_MISSING, git: { ready: true }, builder: { ready: false, reason: DOCKER_MISSING, detail: { state: 'unavailable' } } })
})

t.test('with docker but no buildx plugin, /ready answers 503 naming the plugin and how to install it, logged once', async t => {
  const dockerConfig = path.join(tempDir(t), 'docker')
  new FakeDocker(dockerConfig).control({ buildx: false }) // before start-up: the first try already finds no plugin
  let logged = ''
  const logStream = new Writable({ write (chunk, _encoding, callback) { logged += String(chunk); callback() } })
  const { app, docker } = await harness(t, { DOCKER_CONFIG: dockerConfig, LOG_LEVEL: 'info' }, { logStream })
  const ready = await readyWith(app, BUILDX_MISSING)
  t.equal(ready.statusCode, 503)
  t.match(ready.body, { status: 'unavailable', reason: BUILDX_MISSING, builder: { ready: false, reason: BUILDX_MISSING } })
  await eventually(() => docker.commands().filter(argv => argv[1] === 'ls').length >= 3 ? true : undefined, 'three tries')
  const warnings = logged.split('\n').filter(line => line.includes('The builder is unavailable'))
  t.equal(warnings.length, 1, 'one warning for three tries')
  t.equal(JSON.parse(warnings[0]!).reason, BUILDX_MISSING)
})

t.test('without git on PATH, /ready answers 503 naming it', async t => {
  const { app } = await harness(t, { PATH: `${FAKE_BIN}${path.delimiter}${binWith(t, { node: process.execPath })}` })
  await builderReady(app)
  const ready = await readyWith(app, GIT_MISSING)
  t.equal(ready.statusCode, 503)
  t.match(ready.body, { status: 'unavailable', reason: GIT_MISSING, git: { ready: false, reason: GIT_MISSING }, builder: { ready: true } })
})
