import type { Settings } from '../config/settings.js'
import { BuildHookError } from '../errors.js'
import { STATUS_TARGET } from './report-planner.js'

/**
 * Each project's commit status token and notification signing secrets, read once at start-up from the
 * variables the config names (never the values themselves), by `<slug> <target>`. A named variable that is
 * unset or empty stops start-up, naming it.
 */
export class ReportSecrets {
  readonly #secrets = new Map<string, string>()

  constructor (settings: Pick<Settings, 'source' | 'projects'>, env: Readonly<Record<string, string | undefined>>) {
    const missing: string[] = []
    const read = (project: string, target: string, name: string, what: string): void => {
      const value = env[name] ?? ''
      if (value === '') missing.push(`  - ${name} (${what} of project ${project})`)
      else this.#secrets.set(`${project} ${target}`, value)
    }
    for (const project of settings.projects) {
      if (project.status !== null) read(project.slug, STATUS_TARGET, project.status.tokenEnv, `the ${project.status.provider} status token`)
      project.notify.forEach((entry, index) => {
        if (entry.secretEnv !== null) read(project.slug, `notify:${index}`, entry.secretEnv, `the secret of notify[${index}]`)
      })
    }
    if (missing.length > 0) {
      throw new BuildHookError('BH_REPORT_SECRET_MISSING', `Commit status and notification variables named in ${settings.source} are not set:\n${[...new Set(missing)].join('\n')}`)
    }
  }

  /** The token of a commit status target, or the signing secret of a notify target (undefined: unsigned). */
  get (project: string, target: string): string | undefined {
    return this.#secrets.get(`${project} ${target}`)
  }

  /** Every value, for the redactor. */
  values (): IterableIterator<string> {
    return this.#secrets.values()
  }
}
