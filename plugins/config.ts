import fp from 'fastify-plugin'
import fastifyEnv from '@fastify/env'
import { EnvSchema, type Env } from '../lib/env.js'
import type { Redactor } from '../lib/secrets/redactor.js'
import { readConfig, ConfigError, type Settings } from '../lib/config/index.js'
import { readSecrets, type ServiceSecrets } from '../lib/secrets/service-secrets.js'

declare module 'fastify' {
  interface FastifyInstance {
    /** The validated environment (only the keys of lib/env.ts). */
    env: Env
    /** config.toml, validated and frozen. */
    settings: Settings
    /** Bearer tokens, webhook secrets, Git credentials, report tokens, and the redactor that keeps them out of what leaves the process. */
    secrets: ServiceSecrets
  }
}

export interface ConfigPluginOptions {
  /** Where environment variables come from: process.env in the server, a plain object in tests. */
  env: Record<string, string | undefined>
  /** Receives the redactor once every secret is known (the log's last line of defence, app.ts). */
  onRedactor?: (redactor: Redactor) => void
}

export default fp<ConfigPluginOptions>(async function configPlugin (fastify, options) {
  try {
    // env: false keeps tests that pass their own variables independent of the machine's environment.
    await fastify.register(fastifyEnv, { confKey: 'env', schema: EnvSchema, env: false, data: options.env })
  } catch (err) {
    throw new ConfigError('BH_ENV_INVALID', `Invalid environment: ${(err as Error).message}`)
  }
  const settings = readConfig(fastify.env.CONFIG_PATH, { builderEndpoint: fastify.env.BUILDKIT_HOST })
  fastify.decorate('settings', settings)
  const secrets = readSecrets(settings, fastify.env, options.env)
  fastify.decorate('secrets', secrets)
  options.onRedactor?.(secrets.redactor)
  fastify.log.info({ config: settings.source, projects: settings.projects.map(project => project.slug) }, 'Configuration loaded.')
}, { name: 'config' })
