import type { BuildRecord } from '../schemas/build.js'
import type { NotifyFormat } from '../config/schema.js'
import type { StoredRequest } from '../store/report-store.js'
import type { BuildSummary } from '../reports/describe.js'

/** The header naming the build status a notification is about. */
export const EVENT_HEADER = 'X-Build-Hook-Event'
/** The header with the notification's id: the same on every retry of it. */
export const DELIVERY_HEADER = 'X-Build-Hook-Delivery'

export interface NotificationContext {
  url: string
  format: NotifyFormat
  /** The project's display name. */
  projectName: string
  summary: BuildSummary
  /** The build's page, when app.public_url is set. */
  buildUrl: string | null
}

/**
 * An outgoing webhook about a build ([[projects.notify]]): `json` sends the build record itself, `slack` an
 * incoming-webhook message. The signature and delivery id are added when it is sent.
 */
export function notificationRequest (build: BuildRecord, context: NotificationContext): StoredRequest {
  const body = context.format === 'json' ? JSON.stringify(build) : JSON.stringify({ text: slackText(build, context) })
  return {
    method: 'POST',
    url: context.url,
    headers: { 'Content-Type': 'application/json', 'User-Agent': 'build-hook', [EVENT_HEADER]: build.status },
    body
  }
}

// Slack's mrkdwn: <url|text> links; &, < and > must be escaped in text.
function slackText (build: BuildRecord, context: NotificationContext): string {
  const id = context.buildUrl === null ? `#${build.id}` : `<${context.buildUrl}|#${build.id}>`
  const commit = (build.commit ?? build.trigger.commit).slice(0, 12)
  const branch = build.trigger.ref.replace(/^refs\/heads\//, '')
  return `${escape(context.projectName)}: build ${id} ${build.status}: ${escape(context.summary.description)} (\`${commit}\` on ${escape(branch)})`
}

function escape (text: string): string {
  return text.replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;')
}
