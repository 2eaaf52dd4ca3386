import { createReadStream } from 'node:fs'
import { access } from 'node:fs/promises'
import { PassThrough, type Readable } from 'node:stream'
import type { BuildStore, FinalEvent } from '../store/build-store.js'
import type { BuildLog } from './build-log.js'
import type { Closing, LiveLogs } from './live-logs.js'
import { FINAL_STATUSES } from './record.js'

export interface FollowOptions {
  id: number
  file: string
  live: LiveLogs
  store: BuildStore
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
 * listening.
 */
export function followLog (options: FollowOptions): Readable {
  const { id, live, store } = options
  const out = new PassThrough()
  // Bytes of the file this follower has been sent: a next attempt's log starts with everything before it.
  let sent = 0
  const send = (chunk: string | Buffer): void => {
    sent += typeof chunk === 'string' ? Buffer.byteLength(chunk) : chunk.length
    out.write(chunk)
  }
  const cleanups: Array<() => void> = []
  out.once('close', () => { for (const cleanup of cleanups.splice(0)) cleanup() })

  // The build has ended: what the file holds beyond what was sent, then the end.
  const finish = (): void => {
    void readLog(options.file, sent).then(file => {
      if (file === null) out.end()
      else file.pipe(out)
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
      if (last !== undefined) return void out.end(last)
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
    const onOpened = (opened: number): void => {
      if (opened !== id) return
      stopWaiting()
      attach(live.get(id)!)
    }
    const onFinal = (event: FinalEvent): void => {
      if (event.id !== id) return
      stopWaiting()
      finish()
    }
    const onClosing = (): void => {
      stopWaiting()
      out.end(closingLine(`build ${id} stays queued and runs after the next start`))
    }
    const stopWaiting = (): void => {
      live.off('opened', onOpened)
      store.off('final', onFinal)
      live.off('closing', onClosing)
    }
    if (live.closing !== null) return onClosing()
    live.on('opened', onOpened)
    store.on('final', onFinal)
    live.once('closing', onClosing)
    cleanups.push(stopWaiting)
    // The next attempt may have opened its log while the previous one's backlog was still being read.
    const current = live.get(id)
    if (current !== undefined && current !== previous) onOpened(id)
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

/** The last line a follower gets when the service shuts down, in the log's own format. */
function closingLine (what: string): string {
  return `[build-hook] build-hook is shutting down: ${what}\n`
}
