import { spawn } from 'node:child_process'
import { constants } from 'node:os'
import { createInterface } from 'node:readline'

export type Stream = 'stdout' | 'stderr'

export interface RunOptions {
  /** The child's whole environment: nothing of the parent's is inherited. */
  env: Record<string, string>
  cwd?: string
  /** Called for every line the child writes, in order per stream. */
  onLine?: (line: string, stream: Stream) => void
  /** Aborting interrupts the child's whole process group (SIGINT), then kills it after `killGraceMs`. */
  signal?: AbortSignal
  /** How long an interrupted child may take to exit before SIGKILL. */
  killGraceMs?: number
  /** Told of the child's process group while it runs (lib/process/process-groups.ts). */
  groups?: GroupTracker
}

/** Records a child's process group once spawned; the function it returns forgets it once the child is gone. */
export interface GroupTracker {
  started: (pgid: number) => () => void
}

export interface ProcessResult {
  /** Exit status, or 128 + the signal number when a signal ended it; null when it could not start. */
  code: number | null
  /** Set when the process could not be started (e.g. ENOENT: not installed). */
  spawnError: NodeJS.ErrnoException | null
  /** Whether the run was aborted through `signal`. */
  aborted: boolean
}

export const DEFAULT_KILL_GRACE_MS = 10_000

/**
 * Runs a command from an argv array, never through a shell, in a process group of its own, so that an
 * interrupt reaches the whole tree (docker and its buildx plugin). Resolves when it has exited and its
 * output has been read; never rejects.
 */
export function runProcess (command: string, args: readonly string[], options: RunOptions): Promise<ProcessResult> {
  return new Promise(resolve => {
    if (options.signal?.aborted === true) {
      resolve({ code: null, spawnError: null, aborted: true })
      return
    }
    const child = spawn(command, args, { env: options.env, cwd: options.cwd, detached: true, stdio: ['ignore', 'pipe', 'pipe'] })
    // Detached: the child leads a process group of its own, whose id is its pid.
    const untrack = child.pid === undefined ? undefined : options.groups?.started(child.pid)
    let spawnError: NodeJS.ErrnoException | null = null
    let aborted = false
    let killTimer: NodeJS.Timeout | undefined
    let open = 2
    let exit: { code: number | null, signal: NodeJS.Signals | null } | undefined

    const signalGroup = (signal: NodeJS.Signals): void => {
      try {
        process.kill(-child.pid!, signal)
      } catch { /* the group is gone already (or never started: no pid) */ }
    }
    const onAbort = (): void => {
      aborted = true
      signalGroup('SIGINT')
      killTimer = setTimeout(() => signalGroup('SIGKILL'), options.killGraceMs ?? DEFAULT_KILL_GRACE_MS)
    }
    const finish = (): void => {
      if (exit === undefined || open > 0) return
      clearTimeout(killTimer)
      untrack?.()
      options.signal?.removeEventListener('abort', onAbort)
      // Node reports either an exit code or the signal that ended the process.
      const code = spawnError !== null ? null : exit.code ?? 128 + constants.signals[exit.signal!]
      resolve({ code, spawnError, aborted })
    }

    for (const stream of ['stdout', 'stderr'] as const) {
      const lines = createInterface({ input: child[stream], crlfDelay: Infinity })
      lines.on('line', line => options.onLine?.(line, stream))
      lines.on('close', () => { open--; finish() })
    }
    child.on('error', err => {
      spawnError = err
      exit = { code: null, signal: null }
      finish()
    })
    child.on('exit', (code, signal) => {
      exit = { code, signal }
      // A grandchild that outlived an interrupted parent would hold the pipes open: it goes too.
      if (aborted) signalGroup('SIGKILL')
      finish()
    })
    options.signal?.addEventListener('abort', onAbort, { once: true })
  })
}
