import { jsonPost, repositoryPath, targetUrl } from './json-request.js'
import type { CommitState, StatusHost } from './types.js'

// Gitea has no running or cancelled state: a running build is still pending, a cancelled one an error.
const STATES: Readonly<Record<CommitState, string>> = { pending: 'pending', running: 'pending', success: 'success', failure: 'failure', error: 'error', cancelled: 'error' }

/** Gitea and Forgejo (its fork) share the status API: repoCreateStatus, POST /repos/{owner}/{repo}/statuses/{sha}. */
export function giteaLike (provider: 'gitea' | 'forgejo'): StatusHost {
  return {
    provider,
    state: state => STATES[state],
    request: (settings, status) => jsonPost(
      `${settings.apiUrl}/repos/${repositoryPath(settings.repository)}/statuses/${status.commit}`,
      { state: STATES[status.state], ...targetUrl(status.targetUrl), description: status.description, context: settings.context }
    ),
    authorization: token => ({ Authorization: `token ${token}` }),
    alreadySet: () => false
  }
}
