import { builtCommit, type BuildRecord } from '../schemas/build.js'
import { statusHost } from '../commit-status/hosts.js'
import type { CommitState } from '../commit-status/types.js'
import type { ProjectSettings, Settings } from '../config/settings.js'
import { notificationRequest } from '../notify/notification.js'
import type { PlanContext, ReportPlanner } from '../store/build-store.js'
import type { NewReport } from '../store/report-store.js'
import { notBuilt, summarise, type BuildSummary } from './describe.js'

/** The target key of a project's commit status; a notify entry's is notify:<index>. */
export const STATUS_TARGET = 'status'

/**
 * Which commit statuses and notifications each build change sends, from the config: the store calls it in
 * the transaction of the change, so that what it returns is kept until sent.
 */
export class ConfiguredReports implements ReportPlanner {
  readonly #projects: ReadonlyMap<string, ProjectSettings>
  readonly #repositories: ReadonlyMap<string, ReadonlyMap<string, string>>
  readonly #publicUrl: string | null

  constructor (settings: Pick<Settings, 'projects' | 'publicUrl'>) {
    const reporting = settings.projects.filter(project => project.status !== null || project.notify.length > 0)
    this.#projects = new Map(reporting.map(project => [project.slug, project]))
    this.#repositories = new Map(reporting.map(project => [project.slug, new Map(project.images.map(image => [image.name, image.repository]))]))
    this.#publicUrl = settings.publicUrl
  }

  reports (project: string): boolean {
    return this.#projects.has(project)
  }

  plan (build: BuildRecord, context: PlanContext): NewReport[] {
    const project = this.#projects.get(build.project)!
    const summary = summarise(build, this.#repositories.get(build.project)!)
    const buildUrl = this.#buildUrl(build)
    const reports: NewReport[] = []
    // A rollback builds no commit: the commit it deploys again keeps the status of the build that built it.
    if (project.status !== null && build.rollbackOf === null) {
      const owner = context.commitOwner
      reports.push(owner === null
        ? this.#status(project, build, builtCommit(build), summary, buildUrl)
        : this.#status(project, build, builtCommit(build), summarise(owner, this.#repositories.get(build.project)!), this.#buildUrl(owner)))
      // The commits it showed states on and does not build (the head check moved on): they end as not built.
      const built = builtCommit(build)
      const left = build.status === 'running' ? new Set([build.trigger.commit, context.previousCommit]) : new Set<null>()
      for (const commit of left) {
        if (commit !== null && commit !== built) reports.push(this.#status(project, build, commit, notBuilt(build), buildUrl))
      }
    }
    project.notify.forEach((entry, index) => {
      if (!entry.events.includes(build.status)) return
      reports.push({
        target: `notify:${index}`,
        kind: 'notify',
        label: `notify ${new URL(entry.url).host} (${entry.format})`,
        stream: `notify:${build.project}:${index}:${build.id}`,
        event: build.status,
        commit: null,
        state: null,
        request: notificationRequest(build, { url: entry.url, format: entry.format, projectName: project.name, summary, buildUrl }),
        replaces: false
      })
    })
    return reports
  }

  #buildUrl (build: BuildRecord): string | null {
    return this.#publicUrl === null ? null : `${this.#publicUrl}/ui/builds/${build.id}`
  }

  #status (project: ProjectSettings, build: BuildRecord, commit: string, summary: BuildSummary, buildUrl: string | null): NewReport {
    const settings = project.status!
    const host = statusHost(settings.provider)
    const state: CommitState = summary.state
    return {
      target: STATUS_TARGET,
      kind: 'status',
      label: `${settings.provider} ${settings.context}`,
      // A commit shows one status per name: only the newest state of it matters, sent in order.
      stream: `status:${build.project}:${commit}`,
      event: build.status,
      commit,
      state: host.state(state),
      request: host.request(settings, {
        commit,
        state,
        description: summary.description,
        targetUrl: buildUrl,
        branch: project.code.branch,
        codeUrl: project.code.url
      }),
      replaces: true
    }
  }
}
