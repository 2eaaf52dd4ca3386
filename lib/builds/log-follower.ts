import { createReadStream } from 'node:fs'
import { access } from 'node:fs/promises'
import { PassThrough, type Readable } from 'node:stream'
import type { BuildStore, FinalEvent } from '../store/build-store.js'
import type { BuildLog } from './build-log.js'
import type { Closing, LiveLogs } from './live-logs.js'
import { FINAL_STATUSES, type BuildRecord } from '../schemas/build.js'
import { describeWait, formatDuration, type WaitReason } from './wait-reason.js'

/**
 * How long a follower of a queued build stays silent before it says again why it waits: well inside the idle
 * timeouts of proxies in front of the hook (nginx's proxy_read_timeout: 60 s), so the stream is never cut.
 */
export const STILL_WAITING_INTERVAL_MS = 30_000

/** What a follower of a queued build asks of the scheduler: why the build waits, and word when that may change. */
export interface WaitSource {
  waitReason: (build: BuildRecord) => WaitReason
  on: (event: 'waits', listener: () => void) => unknown
  off: (event: 'waits', listener: () => void) => unknown
}

export interface FollowOptions {
  id: number
  file: string
  live: LiveLogs
  store: BuildStore
  waits: WaitSource
  /** How often a waiting follower repeats why it waits (default STILL_WAITING_INTERVAL_MS). */
  stillWaitingMs?: number
  /** The clock of the "so far" durations (default Date.now). */
  now?: () => number
}

/** The log file from byte `start` on, or nothing when the build never wrote one (superseded, cancelled while queued). */
export async function readLog (file: string, start = 0): Promise<Readable | null> {
  try {
    await access(file)
  } catch {
    return null
  }
  return createReadStream(file, { start })
}

/**
 * A stream of a build's log that ends when the build ends: what is already written, then each chunk as
 * the build writes it, through every attempt (a build that lost BuildKit is queued again and its next
 * attempt appends to the same log). A finished build's log comes whole. Followers of one build share its
 * writer's events: no file watcher or timer per follower, and a follower that goes away just stops
 * listening. While the build is queued, the follower says why it waits (in the log's own `[build-hook]`
 * lines, sent at once, so the answer's headers go out with the first), again whenever the scheduler's
 * reason changes and every `stillWaitingMs`; then that it started, or that it ended before it started.
 * These lines are the stream's own: the log file never has them.
 */
export function followLog (options: FollowOptions): Readable {
  const { id, live, store, waits } = options
  const now = options.now ?? Date.now
  const out = new PassThrough()
  // Bytes of the file this follower has been sent: a next attempt's log starts with everything before it.
  let sent = 0
  const send = (chunk: string | Buffer): void => {
    sent += typeof chunk === 'string' ? Buffer.byteLength(chunk) : chunk.length
    out.write(chunk)
  }
  const cleanups: Array<() => void> = []
  out.once('close', () => { for (const cleanup of cleanups.splice(0)) cleanup() })

  // The build has ended: what the file holds beyond what was sent, then `last` (if any), then the end.
  const finish = (last?: string): void => {
    void readLog(options.file, sent).then(file => {
      if (file === null) {
        out.end(last)
        return
      }
      file.pipe(out, { end: false })
      file.once('end', () => out.end(last))
    })
  }

  const attach = (log: BuildLog): void => {
    // Taken in the same tick as the subscription: the file holds exactly `offset` bytes of what came before.
    const offset = log.flushed
    let pending: string[] | null = []
    let ended = false
    let last: string | undefined
    const onChunk = (chunk: string): void => { if (pending === null) send(chunk); else pending.push(chunk) }
    const afterAttempt = (): void => {
      if (last !== undefined) {
        out.end(last)
        return
      }
      const build = store.get(id)
      // Still running in the store: its outcome (final, or queued again) is being recorded.
      if (build === null || FINAL_STATUSES.has(build.status)) finish()
      else waitForAttempt(log)
    }
    const onEnd = (note?: string): void => {
      stopFollowing()
      last = note
      if (pending === null) afterAttempt()
      else ended = true
    }
    const onClosing = (closing: Closing): void => {
      onEnd(closingLine(`this log ends here; build ${id} ${closing.graceMs > 0 ? `goes on for up to ${Math.ceil(closing.graceMs / 1000)} s and is then cancelled` : 'is being cancelled'} (GET /builds/${id} has its outcome)`))
    }
    const stopFollowing = (): void => {
      log.off('chunk', onChunk)
      log.off('end', onEnd)
      live.off('closing', onClosing)
    }
    log.on('chunk', onChunk)
    log.once('end', onEnd)
    live.once('closing', onClosing)
    cleanups.push(stopFollowing)
    // The writer created the file, so what it flushed is there to read.
    const before = offset <= sent ? null : createReadStream(options.file, { start: sent, end: offset - 1 })
    void new Promise<void>(resolve => {
      if (before === null) return resolve()
      before.on('data', send)
      before.on('end', resolve)
    }).then(() => {
      for (const chunk of pending!) send(chunk)
      pending = null
      if (ended) afterAttempt()
    })
    if (live.closing !== null) onClosing(live.closing)
  }

  // Queued (or left running by a process that died, or between two attempts): wait for it to start, or to
  // end without running again.
  const waitForAttempt = (previous?: BuildLog): void => {
    const waitingSince = now()
    // What the build waits for, as last said (null: nothing said yet), and the repeat of it.
    let said: string | null = null
    let repeat: NodeJS.Timeout | undefined
    const onWaits = (): void => {
      const build = store.get(id)!
      // Between two attempts the store says running until the outcome is recorded: nothing to say yet.
      if (build.status !== 'queued') return
      const what = describeWait(waits.waitReason(build))
      if (what === said) return
      said = what
      out.write(serviceLine(`build ${id} is queued: waiting for ${what}`))
      // Counted from the last line written: a new reason just said needs no repeat right after it.
      clearInterval(repeat)
      repeat = setInterval(() => {
        const since = queuedSince(store.get(id)!) ?? waitingSince
        out.write(serviceLine(`still waiting: ${said!} (${formatDuration(now() - since)} so far)`))
      }, options.stillWaitingMs ?? STILL_WAITING_INTERVAL_MS)
    }
    const onOpened = (opened: number): void => {
      if (opened !== id) return
      stopWaiting()
      if (said !== null) out.write(serviceLine(`build ${id} started (attempt ${store.get(id)!.attempt})`))
      attach(live.get(id)!)
    }
    const onFinal = (event: FinalEvent): void => {
      if (event.id !== id) return
      stopWaiting()
      const build = store.get(id)!
      finish(build.startedAt === null ? endedLine(build) : undefined)
    }
    const onClosing = (): void => {
      stopWaiting()
      out.end(closingLine(`build ${id} stays queued and runs after the next start`))
    }
    const stopWaiting = (): void => {
      live.off('opened', onOpened)
      store.off('final', onFinal)
      live.off('closing', onClosing)
      waits.off('waits', onWaits)
      clearInterval(repeat)
    }
    if (live.closing !== null) return onClosing()
    live.on('opened', onOpened)
    store.on('final', onFinal)
    live.once('closing', onClosing)
    waits.on('waits', onWaits)
    cleanups.push(stopWaiting)
    // The next attempt may have opened its log while the previous one's backlog was still being read.
    const current = live.get(id)
    if (current !== undefined && current !== previous) return onOpened(id)
    onWaits()
  }

  const current = live.get(id)
  if (current !== undefined) {
    attach(current)
    return out
  }
  const build = store.get(id)
  if (build === null || FINAL_STATUSES.has(build.status)) {
    finish()
    return out
  }
  waitForAttempt()
  return out
}

/** A line of the service's own, in the log's format. */
function serviceLine (text: string): string {
  return `[build-hook] ${text}\n`
}

/** The last line a follower gets when the service shuts down. */
function closingLine (what: string): string {
  return serviceLine(`build-hook is shutting down: ${what}`)
}

/** The last line of a build that ended while it was queued (superseded, cancelled, or failed to start). */
function endedLine (build: BuildRecord): string {
  const before = build.attempt === 1 ? 'before it started' : `before attempt ${build.attempt} started`
  if (build.status === 'superseded') return serviceLine(`build ${build.id} was superseded by build ${build.supersededBy!} ${before}`)
  if (build.status === 'cancelled') return serviceLine(`build ${build.id} was cancelled ${before}`)
  return serviceLine(`build ${build.id} ${build.status} ${before}${build.error === null ? '' : `: ${build.error}`}`)
}

/** When the build's current wait began, when the record says: its creation, or the end of its previous attempt. */
function queuedSince (build: BuildRecord): number | null {
  if (build.attempt === 1) return Date.parse(build.createdAt)
  return build.retry?.attempt === build.attempt - 1 ? Date.parse(build.retry.at) : null
}
