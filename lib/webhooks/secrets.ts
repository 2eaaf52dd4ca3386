import type { Settings } from '../config/index.js'
import { BuildHookError } from '../errors.js'

export interface WebhookSecret {
  secret: string
  allowSha1: boolean
}

/**
 * Each project's webhook secret, read once at start-up from the environment variable its config names
 * (never the secret itself). A named variable that is unset or empty stops start-up, naming it.
 */
export function resolveWebhookSecrets (settings: Settings, env: Readonly<Record<string, string | undefined>>): ReadonlyMap<string, WebhookSecret> {
  const secrets = new Map<string, WebhookSecret>()
  const missing: string[] = []
  for (const project of settings.projects) {
    const name = project.webhookSecretEnv
    if (name === null) continue
    const secret = env[name]
    if (secret === undefined || secret === '') missing.push(`  - ${name} (the webhook secret of project ${project.slug})`)
    else secrets.set(project.slug, { secret, allowSha1: project.webhookAllowSha1 })
  }
  if (missing.length > 0) {
    throw new BuildHookError('BH_WEBHOOK_SECRET_MISSING', `Webhook secret variables named in ${settings.source} are not set:\n${[...new Set(missing)].join('\n')}`)
  }
  return secrets
}
