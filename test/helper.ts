import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import type { Test } from 'tap'
import Database, { type Database as Db } from 'better-sqlite3'
import type { FastifyInstance } from 'fastify'
import { buildApp, type AppOptions } from '../app.js'
import type { BuildRecord, BuildStatus } from '../lib/schemas/build.js'
import { ConfigError, parseConfig } from '../lib/config/index.js'
import { FAKE_BIN, FakeDocker, startBuildkit, type FakeBuildkit } from './fixtures/docker.js'

export const ROOT = path.dirname(path.dirname(fileURLToPath(import.meta.url)))
export const FIXTURES = path.join(ROOT, 'test', 'fixtures')
export const SAMPLE_CONFIG = path.join(ROOT, 'config.toml')
export const TOKENS = ['test-token-one', 'test-token-two'] as const

/** A valid config for tests, with one project `demo`. */
export const MINIMAL_CONFIG = `
[app]
registry = "registry.test"

[[projects]]
name = "Demo"
slug = "demo"
[projects.code]
url = "https://git.test/org/demo"
branch = "main"
[[projects.image]]
repository = "demo/web"
location = "Dockerfile"
tag = "latest"
`

/**
 * A connection of the test's own to a store's SQLite file (the store keeps its own private), with foreign
 * keys on as the store has them: for reading what no API returns, or changing what the test sets up.
 */
export function sqlite (t: Test, store: { file: string }): Db {
  const db = new Database(store.file)
  db.pragma('foreign_keys = ON')
  t.teardown(() => db.close())
  return db
}

/** A fresh directory of the test's own, removed when it ends (tap runs teardowns last-registered first). */
export function tempDir (t: Test): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'build-hook-test-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  return dir
}

export interface ProjectToml {
  slug?: string
  url?: string
  branch?: string
  /** Repository names under <slug>/: `web` builds ./Dockerfile, any other name <name>/Dockerfile. */
  images?: string[]
  /** The body of one [[projects.image]] table, instead of `images`. */
  image?: string
  /** More TOML for the project (e.g. its deployments table), appended last. */
  extra?: string
}

/** A config.toml with registry.test and the given projects (default: `demo`), plus [app.builder] lines. */
export function configToml (projects: ProjectToml[] = [{}], builder = ''): string {
  return `[app]\nregistry = "registry.test"\n${builder === '' ? '' : `[app.builder]\n${builder}\n`}` + projects.map(project => {
    const slug = project.slug ?? 'demo'
    const images = project.image !== undefined
      ? `[[projects.image]]\nrepository = "${slug}/web"\n${project.image}\n`
      : (project.images ?? ['web']).map(name => `[[projects.image]]\nrepository = "${slug}/${name}"\nlocation = "${name === 'web' ? '' : `${name}/`}Dockerfile"\ntag = "latest"\n`).join('')
    return `\n[[projects]]\nname = "${slug}"\nslug = "${slug}"\n[projects.code]\nurl = "${project.url ?? `https://git.test/org/${slug}`}"\nbranch = "${project.branch ?? 'main'}"\n${images}${project.extra ?? ''}`
  }).join('')
}

/** The environment a test app gets: no variable of the machine's leaks in; `docker` is the double. */
export function testEnv (t: Test, overrides: Record<string, string | undefined> = {}, dir = tempDir(t)): Record<string, string | undefined> {
  return {
    NODE_ENV: 'test',
    LOG_LEVEL: 'silent',
    BEARER_TOKENS: TOKENS.join(','),
    CONFIG_PATH: SAMPLE_CONFIG,
    DATA_DIR: path.join(dir, 'data'),
    DOCKER_CONFIG: path.join(dir, 'docker'),
    HOME: dir,
    PATH: `${FAKE_BIN}${path.delimiter}${process.env.PATH ?? ''}`,
    ...overrides
  }
}

// The server as a real process, with the docker double first on PATH and BuildKit a listener of the test's.
export async function serverEnv (t: Test, overrides: Record<string, string | undefined> = {}): Promise<Record<string, string | undefined>> {
  const dir = tempDir(t)
  const buildkit = await startBuildkit(t)
  return {
    NODE_ENV: 'test',
    HOST: '127.0.0.1',
    PORT: '0',
    CONFIG_PATH: SAMPLE_CONFIG,
    BEARER_TOKENS: 'server-test-token',
    LOG_LEVEL: 'info',
    DATA_DIR: path.join(dir, 'data'),
    DOCKER_CONFIG: path.join(dir, 'docker'),
    HOME: dir,
    BUILDKIT_HOST: buildkit.endpoint,
    PATH: `${FAKE_BIN}${path.delimiter}${process.env.PATH ?? ''}`,
    ...overrides
  }
}

/** Fast retries and kills, and no shutdown grace, unless a test says otherwise. */
export const TEST_APP_OPTIONS: Omit<AppOptions, 'env'> = {
  buildx: { retry: { initialMs: 50, maxMs: 200 } },
  // The head check asks the project's Git host: tests that have one (a git server of theirs) turn it on.
  builds: { shutdownGraceMs: 0, headCheck: false, killGraceMs: 2_000 },
  kube: { pollMs: 20 }
}

export interface Harness {
  app: FastifyInstance
  docker: FakeDocker
  /** The BuildKit stand-in the app's builder points at (unless the test set BUILDKIT_HOST). */
  buildkit: FakeBuildkit | null
  env: Record<string, string | undefined>
}

/** Writes TOML into the test's own directory and returns its path. */
export function writeConfig (t: Test, toml: string, name = 'config.toml'): string {
  const dir = t.testdir()
  const file = path.join(dir, name)
  writeFileSync(file, toml)
  return file
}

/**
 * Composes the app exactly as server.ts does, minus listen, with docker replaced by the double and BuildKit
 * by a listener on 127.0.0.1; closed when the test ends.
 */
export async function harness (
  t: Test,
  env: Record<string, string | undefined> = {},
  options: Omit<AppOptions, 'env'> = {},
  register?: (app: FastifyInstance) => void
): Promise<Harness> {
  const buildkit = 'BUILDKIT_HOST' in env ? null : await startBuildkit(t)
  const appEnv = testEnv(t, { ...(buildkit === null ? {} : { BUILDKIT_HOST: buildkit.endpoint }), ...env })
  const docker = new FakeDocker(appEnv.DOCKER_CONFIG!)
  const app = buildApp({ env: appEnv, ...TEST_APP_OPTIONS, ...options })
  register?.(app)
  t.teardown(() => app.close()) // before the directories go: teardowns run last-registered first
  await app.ready()
  return { app, docker, buildkit, env: appEnv }
}

export async function build (
  t: Test,
  env: Record<string, string | undefined> = {},
  options: Omit<AppOptions, 'env'> = {},
  register?: (app: FastifyInstance) => void
): Promise<FastifyInstance> {
  return (await harness(t, env, options, register)).app
}

/** Polls `check` until it returns a value other than undefined (no fixed sleeps; a generous deadline). */
export async function eventually<T> (check: () => T | undefined | Promise<T | undefined>, what: string, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const value = await check()
    if (value !== undefined) return value
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise(resolve => setTimeout(resolve, 10))
  }
}

/** `promise`, or a failure naming `what` once `timeoutMs` passed: an awaited event that never comes fails the test. */
export async function within<T> (promise: Promise<T>, what: string, timeoutMs = 30_000): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  const deadline = new Promise<never>((_resolve, reject) => { timer = setTimeout(() => reject(new Error(`timed out waiting for ${what}`)), timeoutMs) })
  try {
    return await Promise.race([promise, deadline])
  } finally {
    clearTimeout(timer)
  }
}

/**
 * The build's record once its status is one of `statuses`. 90 s: a test file's first deploy imports the
 * Kubernetes client (about 4 s through tap's loader on an idle machine), and with two suites running at once
 * on two cores the first build of rollback.test.ts and status.test.ts took more than 30 s.
 */
export function buildIn (app: FastifyInstance, id: number, statuses: readonly BuildStatus[]): Promise<BuildRecord> {
  return eventually(() => {
    const build = app.store.get(id)
    return build !== null && statuses.includes(build.status) ? build : undefined
  }, `build ${id} to be ${statuses.join(' or ')}`, 90_000)
}

export function finished (app: FastifyInstance, id: number): Promise<BuildRecord> {
  return buildIn(app, id, ['succeeded', 'failed', 'cancelled', 'superseded'])
}

/** Builds `commit` of `slug` through the API (asserting the 202) and returns the finished build. */
export async function buildOf (t: Test, app: FastifyInstance, slug: string, commit: string): Promise<BuildRecord> {
  const res = await app.inject({ method: 'POST', url: `/${slug}`, headers: { authorization: `Bearer ${TOKENS[0]}` }, payload: { commit } })
  t.equal(res.statusCode, 202)
  return finished(app, res.json().id as number)
}

export function builderReady (app: FastifyInstance): Promise<void> {
  return app.builder.whenReady(AbortSignal.timeout(30_000))
}

/** Every problem of a config text as "path: message" lines, in the order they are reported ([] when valid). */
export function configProblems (toml: string, source = '/etc/build-hook/config.toml'): string[] {
  try {
    parseConfig(toml, source)
  } catch (err) {
    if (err instanceof ConfigError) return err.problems.map(p => `${p.path}: ${p.message}`)
    throw err
  }
  return []
}
