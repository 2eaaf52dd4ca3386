import Type, { type Static } from 'typebox'
import { DeployStrategies, type DeployStrategy } from '../config/schema.js'
import { Nullable } from './common.js'

// The build record of docs/contract.md (Builds): the store returns it, the API sends it.

/** A build id, wherever the API takes one: a positive integer that a JavaScript number holds exactly (a bigger one would be rounded and name another build). */
export const BuildIdSchema = Type.Integer({ minimum: 1, maximum: Number.MAX_SAFE_INTEGER })

export const BUILD_STATUSES = ['queued', 'running', 'succeeded', 'failed', 'cancelled', 'superseded'] as const
export const FINAL_STATUSES: ReadonlySet<BuildStatus> = new Set(['succeeded', 'failed', 'cancelled', 'superseded'])
/** Who asked for a build: a Git host's webhook, an API call, or a rollback (which builds nothing). */
export const SOURCES = ['github', 'gitlab', 'gitea', 'forgejo', 'gogs', 'bitbucket', 'api', 'rollback'] as const
/** The senders of POST /<slug>. */
export const DELIVERY_SOURCES = SOURCES.filter((source): source is Exclude<Source, 'rollback'> => source !== 'rollback')

/**
 * Why an image failed or was cancelled, decided from what docker printed (lib/buildx/failure.ts): what
 * happens next (a builder reset, running the build again) is decided from this, never from a sentence.
 */
export const FAILURE_REASONS = [
  'docker-missing', // no docker executable, or it cannot be run
  'buildx-missing', // docker without the buildx plugin
  'builder-unreachable', // BuildKit did not answer (context deadline exceeded)
  'builder-connection-lost', // BuildKit went away during the build (rpc Unavailable)
  'git-auth', // BuildKit's git fetch needs credentials
  'git-fetch-failed', // BuildKit could not fetch the repository (the Git host is down or unknown)
  'commit-not-found', // the commit is not in the repository
  'dockerfile-not-found', // no Dockerfile at that path at that commit
  'base-image-pull-failed', // a FROM image could not be resolved or pulled
  'push-denied', // the registry refused the push (credentials, permissions)
  'push-failed', // the push failed otherwise (the registry is unreachable, or answered an error)
  'image-not-found', // a rollback's image is no longer in the registry (deleted, or garbage-collected)
  'step-failed', // a Dockerfile step exited non-zero
  'no-digest', // buildx exited 0 without writing the pushed digest
  'log-failed', // the build log could not be written (e.g. a full disk)
  'cancelled', // interrupted: cancelled, shut down, or a sibling image failed
  'timed-out', // interrupted: the build passed timeout_seconds
  'unknown'
] as const

export const BuildStatusSchema = Type.Enum([...BUILD_STATUSES])
export const FailureReasonSchema = Type.Enum([...FAILURE_REASONS])
export const ImageStatusSchema = Type.Enum(['pending', 'running', 'succeeded', 'failed', 'cancelled'])
export const DeployStatusSchema = Type.Enum(['skipped', 'pending', 'running', 'succeeded', 'failed'])
export const DeployStrategySchema = Type.Enum([...DeployStrategies])

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
  error: Nullable(Type.String()),
  /** Why it failed or was cancelled (FAILURE_REASONS); null while pending, running or once succeeded. */
  reason: Nullable(FailureReasonSchema)
})

/** Why the previous attempt of a build ended without a result of the user's (BuildKit went away). */
export const RetrySchema = Type.Object({
  /** The attempt that ended. */
  attempt: Type.Integer(),
  reason: FailureReasonSchema,
  error: Type.String(),
  at: Type.String()
})

export const DeployStateSchema = Type.Object({
  status: DeployStatusSchema,
  namespace: Nullable(Type.String()),
  resources: Type.Array(Type.String()),
  error: Nullable(Type.String()),
  /** How it deploys ([projects.deployments] strategy when the deploy step ran); null before, or without deployments. */
  strategy: Nullable(DeployStrategySchema),
  /** Why a build whose images were pushed did not deploy (a newer build had deployed); null otherwise. */
  reason: Nullable(Type.String()),
  /** When this build changed the workloads (its deploy sent its first patch); null if it never did. */
  deployedAt: Nullable(Type.String())
})

export const REPORT_KINDS = ['status', 'notify'] as const
/**
 * pending: not sent yet, or being retried; delivered; failed: refused, or given up on; skipped: a newer state of
 * the same commit replaced it before it could be sent (a commit status shows only the last one anyway).
 */
export const REPORT_STATUSES = ['pending', 'delivered', 'failed', 'skipped'] as const

/** A commit status or notification about the build: the last one sent (or to send) to each target. */
export const ReportSchema = Type.Object({
  kind: Type.Enum([...REPORT_KINDS]),
  /** Where it goes: the host and status name (`github build-hook/web`), or the notify host and format. */
  target: Type.String(),
  /** The build status reported. */
  event: BuildStatusSchema,
  /** The commit a status is on (null for a notification). */
  commit: Nullable(Type.String()),
  /** The host's state for a commit status (e.g. success, failed, SUCCESSFUL); null for a notification. */
  state: Nullable(Type.String()),
  status: Type.Enum([...REPORT_STATUSES]),
  attempts: Type.Integer(),
  /** The HTTP status of the last answer; null before the first, or when the last attempt got none. */
  responseStatus: Nullable(Type.Integer()),
  /** Why the last attempt did not deliver it. */
  error: Nullable(Type.String()),
  /** When it was last tried. */
  attemptedAt: Nullable(Type.String()),
  /** When it is tried next, while pending. */
  nextAttemptAt: Nullable(Type.String())
})

export const BuildRecordSchema = Type.Object({
  id: Type.Integer(),
  project: Type.String(),
  status: BuildStatusSchema,
  trigger: TriggerSchema,
  /** The commit built (docs/contract.md "Head check"): the pushed one, or the branch head when it moved after the push. */
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
  supersededBy: Nullable(Type.Integer()),
  /** A rollback (trigger.source = rollback): the build whose images and digests it deploys again. */
  rollbackOf: Nullable(Type.Integer()),
  /** Set when the build was queued again because BuildKit was unreachable or lost: why, and after which attempt. */
  retry: Nullable(RetrySchema),
  /** Its commit statuses and notifications ([projects.status], [[projects.notify]]): the last of each target. */
  reports: Type.Array(ReportSchema)
})

/**
 * What a project's workloads were last set to run (docs/contract.md "Never deploy backwards"): the build that last
 * changed them, with the digests it deployed, whether its rollout succeeded, and when.
 */
export const DeployedSchema = Type.Object({
  build: Type.Integer(),
  commit: Type.String(),
  /** registry/repository → the digest deployed. */
  digests: Type.Record(Type.String(), Type.String()),
  strategy: DeployStrategySchema,
  /**
   * running: the workloads were changed and the rollout is not decided yet (or the service stopped during it);
   * failed: the rollout did not complete (or a patch after the first failed).
   */
  status: Type.Enum(['running', 'succeeded', 'failed']),
  /** The build this one rolled back to, when it was a rollback. */
  rollbackOf: Nullable(Type.Integer()),
  at: Type.String()
})

export type BuildStatus = typeof BUILD_STATUSES[number]
export type Source = typeof SOURCES[number]
export type Trigger = Static<typeof TriggerSchema>
export type ImageResult = Static<typeof ImageResultSchema>
export type ImageStatus = ImageResult['status']
export type FailureReason = typeof FAILURE_REASONS[number]
export type Retry = Static<typeof RetrySchema>
export type DeployState = Static<typeof DeployStateSchema>
export type { DeployStrategy }
export type Deployed = Static<typeof DeployedSchema>
export type BuildRecord = Static<typeof BuildRecordSchema>

/** What asks for a build: a source and event, and whatever else of a trigger it knows. */
export interface TriggerInput extends Pick<Trigger, 'source' | 'event'>, Partial<Omit<Trigger, 'source' | 'event'>> {
  /** Full 40-hex SHA; without it the branch head is resolved when the build is recorded. */
  commit?: string
}

export type Report = Static<typeof ReportSchema>
export type ReportKind = typeof REPORT_KINDS[number]
export type ReportStatus = typeof REPORT_STATUSES[number]

/** The commit a build builds: the one it started with, else (still queued) the one it was triggered for. */
export function builtCommit (build: Pick<BuildRecord, 'commit' | 'trigger'>): string {
  return build.commit ?? build.trigger.commit
}
