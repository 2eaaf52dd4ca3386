import Type, { type Static } from 'typebox'

// The build record of SPEC.md (Builds): the store returns it, the API sends it.

export const BUILD_STATUSES = ['queued', 'running', 'succeeded', 'failed', 'cancelled', 'superseded'] as const
export const FINAL_STATUSES: ReadonlySet<BuildStatus> = new Set(['succeeded', 'failed', 'cancelled', 'superseded'])
export const SOURCES = ['github', 'gitlab', 'gitea', 'forgejo', 'gogs', 'bitbucket', 'api'] as const

const Nullable = <T extends Type.TSchema>(schema: T) => Type.Union([schema, Type.Null()])

export const BuildStatusSchema = Type.Enum([...BUILD_STATUSES])
export const ImageStatusSchema = Type.Enum(['pending', 'running', 'succeeded', 'failed', 'cancelled'])
export const DeployStatusSchema = Type.Enum(['skipped', 'pending', 'running', 'succeeded', 'failed'])

export const TriggerSchema = Type.Object({
  source: Type.Enum([...SOURCES]),
  event: Type.String(),
  delivery: Nullable(Type.String()),
  ref: Type.String(),
  commit: Type.String(),
  sender: Nullable(Type.String())
})

export const ImageResultSchema = Type.Object({
  /** registry/repository, without a tag. */
  image: Type.String(),
  tags: Type.Array(Type.String()),
  status: ImageStatusSchema,
  digest: Nullable(Type.String()),
  durationMs: Nullable(Type.Integer()),
  error: Nullable(Type.String())
})

export const DeployStateSchema = Type.Object({
  status: DeployStatusSchema,
  namespace: Nullable(Type.String()),
  resources: Type.Array(Type.String()),
  error: Nullable(Type.String())
})

export const BuildRecordSchema = Type.Object({
  id: Type.Integer(),
  project: Type.String(),
  status: BuildStatusSchema,
  trigger: TriggerSchema,
  /** The commit built (SPEC "Head check"): the pushed one, or the branch head when it moved after the push. */
  commit: Nullable(Type.String()),
  /** Why `commit` is not `trigger.commit`, or why the head could not be checked; null otherwise. */
  commitReason: Nullable(Type.String()),
  createdAt: Type.String(),
  startedAt: Nullable(Type.String()),
  finishedAt: Nullable(Type.String()),
  images: Type.Array(ImageResultSchema),
  deploy: DeployStateSchema,
  error: Nullable(Type.String()),
  attempt: Type.Integer(),
  supersededBy: Nullable(Type.Integer())
})

export type BuildStatus = typeof BUILD_STATUSES[number]
export type Source = typeof SOURCES[number]
export type Trigger = Static<typeof TriggerSchema>
export type ImageResult = Static<typeof ImageResultSchema>
export type ImageStatus = ImageResult['status']
export type DeployState = Static<typeof DeployStateSchema>
export type BuildRecord = Static<typeof BuildRecordSchema>

/** The commit a build builds: the one it started with, else (still queued) the one it was triggered for. */
export function builtCommit (build: Pick<BuildRecord, 'commit' | 'trigger'>): string {
  return build.commit ?? build.trigger.commit
}
