import type { BuildRecord, BuildStatus, DeployState, DeployStrategy, FailureReason, ImageStatus, Trigger } from '../schemas/build.js'

// The builds and build_images tables' rows as SQLite returns them, and the record the API sends made of them.

export interface BuildRow {
  id: number
  project: string
  status: BuildStatus
  source: Trigger['source']
  event: string
  delivery: string | null
  ref: string
  commit_sha: string
  sender: string | null
  created_at: string
  started_at: string | null
  finished_at: string | null
  error: string | null
  attempt: number
  deploy_status: DeployState['status']
  deploy_namespace: string | null
  deploy_resources: string
  deploy_error: string | null
  superseded_by: number | null
  retry_attempt: number | null
  retry_reason: FailureReason | null
  retry_error: string | null
  retry_at: string | null
  built_commit: string | null
  commit_reason: string | null
  rollback_of: number | null
  deploy_strategy: DeployStrategy | null
  deploy_reason: string | null
  deployed_at: string | null
}

export interface ImageRow {
  build_id: number
  position: number
  image: string
  tags: string
  status: ImageStatus
  digest: string | null
  duration_ms: number | null
  error: string | null
  reason: FailureReason | null
}

/** A build's record from its row and its images' rows (in position order); its reports are read apart. */
export function toRecord (row: BuildRow, images: ImageRow[]): Omit<BuildRecord, 'reports'> {
  return {
    id: row.id,
    project: row.project,
    status: row.status,
    trigger: { source: row.source, event: row.event, delivery: row.delivery, ref: row.ref, commit: row.commit_sha, sender: row.sender },
    commit: row.built_commit,
    commitReason: row.commit_reason,
    createdAt: row.created_at,
    startedAt: row.started_at,
    finishedAt: row.finished_at,
    images: images.map(image => ({
      image: image.image,
      tags: JSON.parse(image.tags) as string[],
      status: image.status,
      digest: image.digest,
      durationMs: image.duration_ms,
      error: image.error,
      reason: image.reason
    })),
    deploy: {
      status: row.deploy_status,
      namespace: row.deploy_namespace,
      resources: JSON.parse(row.deploy_resources) as string[],
      error: row.deploy_error,
      strategy: row.deploy_strategy,
      reason: row.deploy_reason,
      deployedAt: row.deployed_at
    },
    error: row.error,
    attempt: row.attempt,
    supersededBy: row.superseded_by,
    rollbackOf: row.rollback_of,
    retry: row.retry_reason === null
      ? null
      : { attempt: row.retry_attempt!, reason: row.retry_reason, error: row.retry_error!, at: row.retry_at! }
  }
}
