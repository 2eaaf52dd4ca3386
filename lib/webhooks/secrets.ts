import type { Settings } from '../config/index.js'

export interface WebhookSecret {
  secret: string
  allowSha1: boolean
}

/**
 * Each project's webhook secret, read once at start-up from the environment variable its config names
 * (never the secret itself). Start-up has already stopped when such a variable is unset or empty
 * (requireNamedVariables); a project without one takes bearer tokens only.
 */
export function resolveWebhookSecrets (settings: Settings, env: Readonly<Record<string, string | undefined>>): ReadonlyMap<string, WebhookSecret> {
  const secrets = new Map<string, WebhookSecret>()
  for (const project of settings.projects) {
    const secret = project.webhookSecretEnv === null ? '' : env[project.webhookSecretEnv] ?? ''
    if (secret !== '') secrets.set(project.slug, { secret, allowSha1: project.webhookAllowSha1 })
  }
  return secrets
}
