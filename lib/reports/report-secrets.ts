import type { Settings } from '../config/settings.js'
import { STATUS_TARGET } from './report-planner.js'

/**
 * Each project's commit status token and notification signing secrets, read once at start-up from the
 * variables the config names (never the values themselves), by `<slug> <target>`. Start-up has already
 * stopped when such a variable is unset or empty (requireNamedVariables).
 */
export class ReportSecrets {
  readonly #secrets = new Map<string, string>()

  constructor (settings: Pick<Settings, 'source' | 'projects'>, env: Readonly<Record<string, string | undefined>>) {
    const read = (project: string, target: string, name: string): void => {
      const value = env[name] ?? ''
      if (value !== '') this.#secrets.set(`${project} ${target}`, value)
    }
    for (const project of settings.projects) {
      if (project.status !== null) read(project.slug, STATUS_TARGET, project.status.tokenEnv)
      project.notify.forEach((entry, index) => {
        if (entry.secretEnv !== null) read(project.slug, `notify:${index}`, entry.secretEnv)
      })
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
