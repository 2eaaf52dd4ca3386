import type { Test } from 'tap'
import { BuildStore } from '../lib/store/build-store.js'
import type { FakeDocker } from './fixtures/docker.js'
import { runTs, type RunningProcess } from './process.js'

// The server as a real process, driven over HTTP: what the recovery and shutdown tests share.

export const LISTENING = /Server listening at (http:\/\/127\.0\.0\.1:\d+)/
/** serverEnv's bearer token. */
export const TOKEN = 'server-test-token'
export const commit = (n: number): string => n.toString(16).padStart(40, '0')

/** Starts server.ts and waits until it listens and its builder is ready. */
export async function start (t: Test, env: Record<string, string | undefined>): Promise<{ server: RunningProcess, base: string }> {
  const server = runTs(t, 'server.ts', [], env)
  const [, base] = await server.waitFor(LISTENING)
  await server.waitFor(/The builder is ready\./)
  return { server, base: base! }
}

export async function trigger (base: string, slug: string, sha: string): Promise<number> {
  const res = await fetch(`${base}/${slug}`, { method: 'POST', headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' }, body: JSON.stringify({ commit: sha }) })
  if (res.status !== 202) throw new Error(`trigger ${slug}: ${res.status} ${await res.text()}`)
  return ((await res.json()) as { id: number }).id
}

/** The store as another process sees it (SQLite in WAL mode serves several). */
export function storeOf (t: Test, dataDir: string): BuildStore {
  const store = new BuildStore(dataDir)
  t.teardown(() => store.close())
  return store
}

/** Orphans of a killed server (docker runs in its own process group) are the test's to end. */
export function killLeftovers (t: Test, docker: FakeDocker): void {
  t.teardown(() => {
    for (const { pid } of docker.calls()) {
      try { process.kill(pid, 'SIGKILL') } catch { /* gone */ }
    }
  })
}
