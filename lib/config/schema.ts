import Type, { type Static } from 'typebox'

// The shape of config.toml, exactly as users write it (snake_case keys).
// Structure and types only: the semantic rules with readable messages live in rules.ts.
// Every object is closed, so a typo such as `brnach` is reported instead of ignored.
const closed = { additionalProperties: false } as const

const Text = Type.String({ minLength: 1 })

export const TlsSchema = Type.Object({
  ca: Type.Optional(Text),
  cert: Type.Optional(Text),
  key: Type.Optional(Text),
  server_name: Type.Optional(Text)
}, closed)

export const BuilderNodeSchema = Type.Object({
  endpoint: Text,
  platforms: Type.Array(Text),
  tls: Type.Optional(TlsSchema)
}, closed)

export const BuilderSchema = Type.Object({
  name: Type.Optional(Text),
  endpoint: Type.Optional(Text),
  tls: Type.Optional(TlsSchema),
  nodes: Type.Optional(Type.Array(BuilderNodeSchema)),
  max_concurrent_builds: Type.Optional(Type.Integer({ minimum: 1, maximum: 64 })),
  timeout_seconds: Type.Optional(Type.Integer({ minimum: 1, maximum: 86_400 })),
  shutdown_grace_seconds: Type.Optional(Type.Integer({ minimum: 0, maximum: 3_600 }))
}, closed)

export const WebhookSchema = Type.Object({
  secret_env: Type.Optional(Text),
  allow_sha1: Type.Optional(Type.Boolean())
}, closed)

export const CacheModes = ['registry', 'inline', 'none'] as const

export const ImageSchema = Type.Object({
  repository: Text,
  location: Text,
  tag: Text,
  context: Type.Optional(Text),
  target: Type.Optional(Text),
  platforms: Type.Optional(Type.Array(Text)),
  build_args: Type.Optional(Type.Record(Type.String(), Type.String())),
  cache: Type.Optional(Type.Enum([...CacheModes]))
}, closed)

export const DeployStrategies = ['restart', 'digest'] as const

export const DeploymentsSchema = Type.Object({
  namespace: Text,
  resources: Type.Array(Text),
  strategy: Type.Optional(Type.Enum([...DeployStrategies])),
  wait: Type.Optional(Type.Boolean()),
  timeout_seconds: Type.Optional(Type.Integer({ minimum: 1, maximum: 86_400 }))
}, closed)

/** Hosts with a commit status API; gogs is accepted here only so that rules.ts can say it has none. */
export const StatusProviders = ['github', 'gitlab', 'gitea', 'forgejo', 'bitbucket'] as const

export const StatusSchema = Type.Object({
  token_env: Text,
  provider: Type.Optional(Type.Enum([...StatusProviders, 'gogs'])),
  api_url: Type.Optional(Text),
  context: Type.Optional(Text)
}, closed)

/** The build statuses a notification can be sent for (the statuses of lib/schemas/build.ts). */
export const NotifyEvents = ['queued', 'running', 'succeeded', 'failed', 'cancelled', 'superseded'] as const
export const NotifyFormats = ['json', 'slack'] as const

export const NotifySchema = Type.Object({
  url: Text,
  events: Type.Optional(Type.Array(Type.Enum([...NotifyEvents]), { minItems: 1 })),
  format: Type.Optional(Type.Enum([...NotifyFormats])),
  secret_env: Type.Optional(Text)
}, closed)

export const ProjectSchema = Type.Object({
  name: Text,
  slug: Text,
  code: Type.Object({
    url: Text,
    branch: Text,
    token_env: Type.Optional(Text)
  }, closed),
  image: Type.Array(ImageSchema, { minItems: 1 }),
  deployments: Type.Optional(DeploymentsSchema),
  webhook: Type.Optional(WebhookSchema),
  status: Type.Optional(StatusSchema),
  notify: Type.Optional(Type.Array(NotifySchema))
}, closed)

export const ConfigFileSchema = Type.Object({
  app: Type.Object({
    registry: Text,
    public_url: Type.Optional(Text),
    keep_builds: Type.Optional(Type.Integer({ minimum: 1, maximum: 100_000 })),
    builder: Type.Optional(BuilderSchema),
    webhook: Type.Optional(WebhookSchema)
  }, closed),
  projects: Type.Array(ProjectSchema, { minItems: 1 })
}, closed)

export type ConfigFile = Static<typeof ConfigFileSchema>
export type ProjectFile = Static<typeof ProjectSchema>
export type ImageFile = Static<typeof ImageSchema>
export type TlsFile = Static<typeof TlsSchema>
export type CacheMode = typeof CacheModes[number]
export type DeployStrategy = typeof DeployStrategies[number]
export type StatusProvider = typeof StatusProviders[number]
export type NotifyEvent = typeof NotifyEvents[number]
export type NotifyFormat = typeof NotifyFormats[number]
