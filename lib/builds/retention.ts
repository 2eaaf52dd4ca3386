import { rm } from 'node:fs/promises'
import type { BuildStore } from '../store/build-store.js'
import { buildLogPath } from './build-log.js'

/** Keeps the project's newest `keep` builds; deletes the older finished ones with their logs. */
export async function pruneBuilds (store: BuildStore, dataDir: string, project: string, keep: number): Promise<number[]> {
  const deleted = store.prune(project, keep)
  await Promise.all(deleted.map(id => rm(buildLogPath(dataDir, id), { force: true })))
  return deleted
}

export interface RetentionOptions {
  store: BuildStore
  dataDir: string
  keep: number
  onError: (err: unknown) => void
}

/**
 * Prunes a project once its builds finish: at most once per turn of the event loop, however many of them
 * finished in it. A burst of pushes supersedes one queued build per push, and finding the cutoff walks the
 * project's index (bench/results.md, step 8): one prune after the turn does what one per build did.
 */
export class Retention {
  readonly #options: RetentionOptions
  readonly #pending = new Set<string>()
  #timer: NodeJS.Immediate | null = null
  #stopped = false

  constructor (options: RetentionOptions) {
    this.#options = options
  }

  /** A build of the project finished. Nothing once stopped: the store is about to close. */
  finished (project: string): void {
    if (this.#stopped) return
    this.#pending.add(project)
    this.#timer ??= setImmediate(() => this.#prune())
  }

  /** Drops what is pending and prunes no more (at shutdown: the next start's first finished build prunes). */
  stop (): void {
    this.#stopped = true
    if (this.#timer !== null) clearImmediate(this.#timer)
    this.#timer = null
    this.#pending.clear()
  }

  #prune (): void {
    this.#timer = null
    const { store, dataDir, keep, onError } = this.#options
    for (const project of this.#pending) pruneBuilds(store, dataDir, project, keep).catch(onError)
    this.#pending.clear()
  }
}
