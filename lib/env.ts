import Type, { type Static } from 'typebox'

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const

// The process environment the service reads, for @fastify/env. Secrets (tokens) stay strings here and
// are never logged: pino's redact list covers them (lib/log-redaction.ts).
export const EnvSchema = Type.Object({
  NODE_ENV: Type.String({ default: 'development' }),
  HOST: Type.String({ default: '0.0.0.0', minLength: 1 }),
  PORT: Type.Integer({ default: 3000, minimum: 0, maximum: 65_535 }),
  LOG_LEVEL: Type.Enum([...LOG_LEVELS], { default: 'info' }),
  CONFIG_PATH: Type.String({ default: './config.toml', minLength: 1 }),
  DATA_DIR: Type.String({ default: './data', minLength: 1 }),
  BEARER_TOKENS: Type.String({ default: '' }),
  BUILDKIT_HOST: Type.Optional(Type.String({ minLength: 1 })),
  GIT_TOKEN: Type.Optional(Type.String()),
  GITHUB_TOKEN: Type.Optional(Type.String()),
  // The hosts GIT_TOKEN (or GITHUB_TOKEN) may be sent to, comma separated: a project on any other host gets
  // a token only through its own [projects.code] token_env.
  GIT_TOKEN_HOSTS: Type.String({ default: 'github.com' }),
  KUBECONFIG: Type.Optional(Type.String()),
  // Set by Kubernetes in every pod: the hook then deploys with its service account.
  KUBERNETES_SERVICE_HOST: Type.Optional(Type.String()),
  KUBERNETES_SERVICE_PORT: Type.Optional(Type.String()),
  // Passed on to docker and git children (lib/process/child-env.ts): where to find them, their home, and
  // the Docker config with the registry credentials.
  PATH: Type.Optional(Type.String()),
  HOME: Type.Optional(Type.String()),
  DOCKER_CONFIG: Type.Optional(Type.String()),
  // After SIGTERM, /ready answers 503 for this long before the listener closes, so that Kubernetes takes
  // the pod out of its Service before connections are refused.
  SHUTDOWN_DRAIN_SECONDS: Type.Number({ default: 0, minimum: 0, maximum: 300 })
}, { additionalProperties: false }) // the decorated env holds these keys only, not the whole process environment

export type Env = Static<typeof EnvSchema>

export function isLogLevel (value: unknown): value is Env['LOG_LEVEL'] {
  return (LOG_LEVELS as readonly unknown[]).includes(value)
}
