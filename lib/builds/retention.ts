import { rm } from 'node:fs/promises'
import type { BuildStore } from '../store/build-store.js'
import { buildLogPath } from './build-log.js'

/** Keeps the project's newest `keep` builds; deletes the older finished ones with their logs. */
export async function pruneBuilds (store: BuildStore, dataDir: string, project: string, keep: number): Promise<number[]> {
  const deleted = store.prune(project, keep)
  await Promise.all(deleted.map(id => rm(buildLogPath(dataDir, id), { force: true })))
  return deleted
}
