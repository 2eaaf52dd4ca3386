import { jsonPost, repositoryPath } from './json-request.js'
import type { CommitState, StatusHost } from './types.js'

const STATES: Readonly<Record<CommitState, string>> = { pending: 'INPROGRESS', running: 'INPROGRESS', success: 'SUCCESSFUL', failure: 'FAILED', error: 'FAILED', cancelled: 'STOPPED' }

/** Bitbucket Cloud "Create a build status for a commit": POST /2.0/repositories/{workspace}/{repo_slug}/commit/{sha}/statuses/build. */
export const bitbucket: StatusHost = {
  provider: 'bitbucket',
  state: state => STATES[state],
  // Bitbucket requires a url: without a build page to link, the repository's page is the link.
  request: (settings, status) => jsonPost(
    `${settings.apiUrl}/2.0/repositories/${repositoryPath(settings.repository)}/commit/${status.commit}/statuses/build`,
    { key: settings.context, state: STATES[status.state], name: settings.context, url: status.targetUrl ?? status.codeUrl, description: status.description, refname: status.branch }
  ),
  // user:app-password and email:api-token are Basic credentials; workspace/repository access tokens are Bearer.
  authorization: token => token.includes(':')
    ? { Authorization: `Basic ${Buffer.from(token).toString('base64')}` }
    : { Authorization: `Bearer ${token}` },
  alreadySet: () => false
}
