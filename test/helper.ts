import { writeFileSync } from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import type { Test } from 'tap'
import type { FastifyInstance } from 'fastify'
import { buildApp, type AppOptions } from '../app.js'

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

/** The environment a test app gets: no variable of the machine's leaks in. */
export function testEnv (t: Test, overrides: Record<string, string | undefined> = {}): Record<string, string | undefined> {
  return {
    NODE_ENV: 'test',
    LOG_LEVEL: 'silent',
    BEARER_TOKENS: TOKENS.join(','),
    CONFIG_PATH: SAMPLE_CONFIG,
    DATA_DIR: t.testdirName,
    ...overrides
  }
}

/** Writes TOML into the test's own directory and returns its path. */
export function writeConfig (t: Test, toml: string, name = 'config.toml'): string {
  const dir = t.testdir()
  const file = path.join(dir, name)
  writeFileSync(file, toml)
  return file
}

/** Composes the app exactly as server.ts does, minus listen; closed when the test ends. */
export async function build (
  t: Test,
  env: Record<string, string | undefined> = {},
  options: Omit<AppOptions, 'env'> = {},
  register?: (app: FastifyInstance) => void
): Promise<FastifyInstance> {
  const app = buildApp({ env: testEnv(t, env), ...options })
  register?.(app)
  t.teardown(() => app.close())
  await app.ready()
  return app
}
