import type { StatusProvider } from '../config/schema.js'
import type { StatusSettings } from '../config/settings.js'

// One module per Git host's commit status API (github.ts, gitlab.ts, gitea.ts, forgejo.ts, bitbucket.ts),
// each behind this interface: the service decides a host-neutral state and description (lib/reports),
// the host module turns it into that host's request.

/**
 * What a build means for one commit, whatever the host calls it. pending: queued; running: building or
 * deploying; success; failure: the commit's build or deploy failed; error: the service could not do its job
 * (or the commit was not built); cancelled: cancelled, or replaced by a newer push.
 */
export const COMMIT_STATES = ['pending', 'running', 'success', 'failure', 'error', 'cancelled'] as const
export type CommitState = typeof COMMIT_STATES[number]

export interface CommitStatus {
  /** The full commit SHA the status is for. */
  commit: string
  state: CommitState
  /** One line, already short enough for every host (lib/reports cuts it to 140 characters). */
  description: string
  /** The build's page (<public_url>/ui/builds/<id>), or null when app.public_url is not set. */
  targetUrl: string | null
  /** The branch the build is for (GitLab's ref, Bitbucket's refname). */
  branch: string
  /** The project's code.url: the link Bitbucket gets when there is no targetUrl (it requires one). */
  codeUrl: string
}

/** An HTTP request, ready to send but for the token: the host module adds it at send time (authorization). */
export interface StatusRequest {
  method: 'POST'
  url: string
  headers: Readonly<Record<string, string>>
  /** The JSON body, serialised. */
  body: string
}

export interface StatusHost {
  provider: StatusProvider
  /** The host's own name for a state (e.g. GitLab 'failed', Bitbucket 'SUCCESSFUL'). */
  state: (state: CommitState) => string
  /** The request that sets `status` on its commit; the settings say where (apiUrl, repository, context). */
  request: (settings: StatusSettings, status: CommitStatus) => StatusRequest
  /** The headers that carry the token, as the host's documentation asks for it. */
  authorization: (token: string) => Readonly<Record<string, string>>
  /**
   * An answer that is not 2xx but means the commit already shows that state (GitLab answers 400
   * "Cannot transition status via :run from :running" to a repeated state): counted as delivered.
   */
  alreadySet: (statusCode: number, body: string) => boolean
}
