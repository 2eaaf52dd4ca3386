import { JSON_HEADERS, jsonPost, repositoryPath, targetUrl } from './json-request.js'
import type { CommitState, StatusHost } from './types.js'

// GitHub knows four states: a running build is still pending, and a cancelled one is an error, not the commit's failure.
const STATES: Readonly<Record<CommitState, string>> = { pending: 'pending', running: 'pending', success: 'success', failure: 'failure', error: 'error', cancelled: 'error' }

const HEADERS = Object.freeze({ Accept: 'application/vnd.github+json', 'X-GitHub-Api-Version': '2022-11-28', ...JSON_HEADERS })

/** GitHub REST "Create a commit status": POST /repos/{owner}/{repo}/statuses/{sha}. */
export const github: StatusHost = {
  provider: 'github',
  state: state => STATES[state],
  request: (settings, status) => jsonPost(
    `${settings.apiUrl}/repos/${repositoryPath(settings.repository)}/statuses/${status.commit}`,
    { state: STATES[status.state], ...targetUrl(status.targetUrl), description: status.description, context: settings.context },
    HEADERS
  ),
  authorization: token => ({ Authorization: `Bearer ${token}` }),
  alreadySet: () => false
}
