import { resolveBearerTokens } from '../bearer-tokens.js'
import { requireNamedVariables, type Settings } from '../config/index.js'
import type { Env } from '../env.js'
import { resolveGitCredentials, type GitCredential } from '../git/credentials.js'
import { ReportSecrets } from '../reports/report-secrets.js'
import { resolveWebhookSecrets, type WebhookSecret } from '../webhooks/secrets.js'
import { Redactor } from './redactor.js'

/** Every secret the service holds, read once at start-up, and the redactor that keeps them all out of what it writes. */
export interface ServiceSecrets {
  /** The API's bearer tokens; `generated` when none was configured and one was made for this run. */
  bearer: { tokens: readonly string[], generated: string | null }
  /** Each project's webhook secret (by slug), from the variable the config names. */
  webhook: ReadonlyMap<string, WebhookSecret>
  /** Each project's Git credential (by slug): its token and the one host it may be sent to. */
  git: ReadonlyMap<string, GitCredential | null>
  /** Each project's commit status token and notification signing secrets. */
  reports: ReportSecrets
  /** Removes every configured secret's value from text that leaves the process (logs, records, errors). */
  redactor: Redactor
}

/**
 * The secrets the config names, read from the raw environment (the validated one keeps only the service's
 * own variables), and the service's own tokens. Throws ConfigError when a variable the config names is
 * unset or empty, and BH_NO_TOKENS when no bearer token is set in production.
 */
export function readSecrets (settings: Settings, env: Env, rawEnv: Readonly<Record<string, string | undefined>>): ServiceSecrets {
  requireNamedVariables(settings, rawEnv)
  const bearer = resolveBearerTokens(env)
  const webhook = resolveWebhookSecrets(settings, rawEnv)
  const git = resolveGitCredentials(settings, rawEnv)
  const reports = new ReportSecrets(settings, rawEnv)
  const redactor = new Redactor([
    ...bearer.tokens,
    env.GIT_TOKEN,
    env.GITHUB_TOKEN,
    ...[...git.values()].map(credential => credential?.token),
    ...[...webhook.values()].map(entry => entry.secret),
    ...reports.values()
  ])
  return { bearer, webhook, git, reports, redactor }
}
