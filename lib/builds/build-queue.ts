import type { ProjectSettings } from '../config/index.js'
import { commitTag } from '../buildx/build-argv.js'
import type { BuildStore, NewBuild } from '../store/build-store.js'
import type { BuildRecord, Trigger } from './record.js'

export interface TriggerInput extends Partial<Trigger> {
  /** Full 40-hex SHA; without it the branch head is resolved when the build is recorded. */
  commit?: string
}

export interface BuildQueueOptions {
  store: BuildStore
  /** Resolves the head of the project's branch (git ls-remote). */
  resolveCommit: (project: ProjectSettings) => Promise<string>
  /** Called once a build is recorded, to start it when it can start. */
  onRecorded: () => void
}

/** Records build requests, pinned to a full commit, and hands them to the scheduler. */
export class BuildQueue {
  readonly #options: BuildQueueOptions

  constructor (options: BuildQueueOptions) {
    this.#options = options
  }

  /** Records a queued build; it is committed to the store before this resolves. */
  async trigger (project: ProjectSettings, input: TriggerInput = {}): Promise<BuildRecord> {
    const commit = (input.commit ?? await this.#options.resolveCommit(project)).toLowerCase()
    const build = this.#options.store.create(newBuild(project, {
      source: input.source ?? 'api',
      event: input.event ?? 'trigger',
      delivery: input.delivery ?? null,
      ref: input.ref ?? `refs/heads/${project.code.branch}`,
      commit,
      sender: input.sender ?? null
    }))
    this.#options.onRecorded()
    return build
  }
}

export function newBuild (project: ProjectSettings, trigger: Trigger): NewBuild {
  const deployments = project.deployments
  return {
    project: project.slug,
    trigger,
    images: project.images.map(image => ({ image: image.name, tags: [image.tag, commitTag(trigger.commit)] })),
    deploy: deployments === null
      ? { status: 'skipped', namespace: null, resources: [] }
      : { status: 'pending', namespace: deployments.namespace, resources: deployments.resources.map(r => `${r.kind}/${r.name}`) }
  }
}
