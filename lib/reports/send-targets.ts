import { statusHost } from '../commit-status/hosts.js'
import type { ProjectSettings } from '../config/index.js'
import { STATUS_TARGET } from './report-planner.js'
import type { ReportSecrets } from './report-secrets.js'
import type { SendTarget } from './report-sender.js'

/**
 * Where each project's reports go, as configured now: its commit status API ([projects.status], target
 * STATUS_TARGET) with its token, or its notify:<n> URL ([[projects.notify]]) with its signing secret, and
 * the one place each may send to. Undefined for a project or target no longer configured (its reports
 * are dropped with that reason).
 */
export function configuredTargets (projects: readonly ProjectSettings[], secrets: ReportSecrets): (slug: string, target: string) => SendTarget | undefined {
  const bySlug = new Map(projects.map(project => [project.slug, project]))
  return (slug, target) => {
    const project = bySlug.get(slug)
    if (project === undefined) return undefined
    if (target === STATUS_TARGET) {
      const status = project.status
      if (status === null) return undefined
      return { kind: 'status', host: statusHost(status.provider), token: secrets.get(slug, target)!, sendsTo: url => url.startsWith(`${status.apiUrl}/`) }
    }
    const entry = project.notify[Number(target.slice('notify:'.length))]
    return entry === undefined ? undefined : { kind: 'notify', secret: secrets.get(slug, target) ?? null, sendsTo: url => url === entry.url }
  }
}
