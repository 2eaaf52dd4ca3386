import { rm } from 'node:fs/promises'
import path from 'node:path'

/** Temporary files of running builds (buildx metadata files): DATA_DIR/tmp. */
export function tmpDir (dataDir: string): string {
  return path.join(path.resolve(dataDir), 'tmp')
}

/** At start-up nothing runs yet: whatever a previous process left there is garbage. */
export async function clearTmpDir (dataDir: string): Promise<void> {
  await rm(tmpDir(dataDir), { recursive: true, force: true })
}
