import { jsonPost, targetUrl } from './json-request.js'
import type { CommitState, StatusHost } from './types.js'

const STATES: Readonly<Record<CommitState, string>> = { pending: 'pending', running: 'running', success: 'success', failure: 'failed', error: 'failed', cancelled: 'canceled' }

// GitLab's state machine refuses to enter the state a status already has, and to go back from running to
// pending (a build queued again after BuildKit went away): either way the commit shows the build in progress.
const ALREADY_SET = /Cannot transition status via :(?:enqueue from :(?:pending|running)|run from :running)\b/

/** GitLab "Set the pipeline status of a commit": POST /projects/{url-encoded path}/statuses/{sha}. */
export const gitlab: StatusHost = {
  provider: 'gitlab',
  state: state => STATES[state],
  // The project is named by its whole namespaced path, encoded as one segment (group%2Fsub%2Fproject).
  request: (settings, status) => jsonPost(
    `${settings.apiUrl}/projects/${encodeURIComponent(settings.repository)}/statuses/${status.commit}`,
    { state: STATES[status.state], name: settings.context, ref: status.branch, ...targetUrl(status.targetUrl), description: status.description }
  ),
  authorization: token => ({ 'PRIVATE-TOKEN': token }),
  alreadySet: (statusCode, body) => statusCode === 400 && ALREADY_SET.test(body)
}
