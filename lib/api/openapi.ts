// The parts of the OpenAPI description the routes' schemas cannot say: who the service is, how callers
// authenticate, and how the routes group. The paths come from the routes themselves (plugins/openapi.ts).

export const SECURITY_SCHEMES = {
  bearer: {
    type: 'http',
    scheme: 'bearer',
    description: 'One of the tokens of BEARER_TOKENS.'
  },
  webhookSignature: {
    type: 'apiKey',
    in: 'header',
    name: 'X-Hub-Signature-256',
    description: "Not a key a caller holds: a Git host's delivery, signed with the project's webhook secret. " +
      'The event header the host sends (X-GitHub-Event, X-Gitlab-Event, ...) says which header carries it: ' +
      'X-Hub-Signature-256 (GitHub: sha256=<hex HMAC-SHA256 of the body>), X-Gitea-Signature, X-Forgejo-Signature ' +
      'or X-Gogs-Signature (hex HMAC-SHA256 of the body), X-Hub-Signature (Bitbucket Cloud, Server and Data Center: sha256=<hex HMAC-SHA256>), ' +
      'X-Gitlab-Token (the secret itself). A bearer token is accepted instead.'
  }
} as const

type Requirement = Readonly<Record<keyof typeof SECURITY_SCHEMES, readonly string[]>>

/** Each route's `security`, from its `config.auth`: a webhook route takes a bearer token or the host's signature. */
export const SECURITY_BY_AUTH: ReadonlyMap<string | undefined, ReadonlyArray<Partial<Requirement>>> = new Map([
  ['bearer', [{ bearer: [] }]],
  ['webhook', [{ bearer: [] }, { webhookSignature: [] }]],
  ['none', []]
])

export const TAGS = [
  { name: 'hook', description: 'Build triggers: Git host webhooks and API calls' },
  { name: 'builds', description: 'Build records, logs and cancellation' },
  { name: 'projects', description: 'The configured projects, what they run, rollbacks' },
  { name: 'health', description: 'Liveness and readiness probes' },
  { name: 'metrics', description: 'Prometheus metrics' }
]

export function openapiInfo (version: string): { title: string, version: string, description: string } {
  return {
    title: 'build-hook',
    version,
    description: 'Git push to docker buildx on a remote BuildKit, to the registry, to a Kubernetes rollout.'
  }
}
