import fp from 'fastify-plugin'
import fastifyEnv from '@fastify/env'
import { EnvSchema, type Env } from '../lib/env.js'
import { resolveGitCredentials, type GitCredential } from '../lib/git/credentials.js'
import { parseBearerTokens } from '../lib/bearer-tokens.js'
import { Redactor } from '../lib/secrets/redactor.js'
import { readConfig, requireNamedVariables, ConfigError, type Settings } from '../lib/config/index.js'
import { resolveWebhookSecrets, type WebhookSecret } from '../lib/webhooks/secrets.js'
import { ReportSecrets } from '../lib/reports/report-secrets.js'

declare module 'fastify' {
  interface FastifyInstance {
    /** The validated environment (only the keys of lib/env.ts). */
    env: Env
    /** config.toml, validated and frozen. */
    settings: Settings
    /** Removes every configured secret's value from text that leaves the process (logs, records, errors). */
    redactor: Redactor
    /** Each project's webhook secret (by slug), from the variables the config names. */
    webhookSecrets: ReadonlyMap<string, WebhookSecret>
    /** Each project's Git credential (by slug): its token and the one host it may be sent to. */
    gitCredentials: ReadonlyMap<string, GitCredential | null>
    /** Each project's commit status token and notification signing secrets. */
    reportSecrets: ReportSecrets
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
  // Read from the raw environment: the validated one keeps only the service's own variables.
  requireNamedVariables(settings, options.env)
  const webhookSecrets = resolveWebhookSecrets(settings, options.env)
  fastify.decorate('webhookSecrets', webhookSecrets)
  const gitCredentials = resolveGitCredentials(settings, options.env)
  fastify.decorate('gitCredentials', gitCredentials)
  const reportSecrets = new ReportSecrets(settings, options.env)
  fastify.decorate('reportSecrets', reportSecrets)
  const redactor = new Redactor([
    ...parseBearerTokens(fastify.env.BEARER_TOKENS),
    fastify.env.GIT_TOKEN,
    fastify.env.GITHUB_TOKEN,
    ...[...gitCredentials.values()].map(credential => credential?.token),
    ...[...webhookSecrets.values()].map(entry => entry.secret),
    ...reportSecrets.values()
  ])
  fastify.decorate('redactor', redactor)
  options.onRedactor?.(redactor)
  fastify.log.info({ config: settings.source, projects: settings.projects.map(project => project.slug) }, 'Configuration loaded.')
}, { name: 'config' })
