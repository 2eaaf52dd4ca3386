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

/** The log file as it is, or nothing when the build never wrote one (superseded, cancelled while queued). */
export async function readLog (file: string): Promise<Readable | null> {
  try {
    await access(file)
  } catch {
    return null
  }
  return createReadStream(file)
}

/**
 * A stream of a build's log that ends when the build ends: what is already written, then each chunk as
 * the build writes it. A finished build's log comes whole. Followers of one build share its writer's
 * events: no file watcher or timer per follower, and a follower that goes away just stops listening.
 */
export function followLog (options: FollowOptions): Readable {
  const { id, live, store } = options
  const out = new PassThrough()
  const cleanups: Array<() => void> = []
  out.once('close', () => { for (const cleanup of cleanups.splice(0)) cleanup() })

  const sendWhole = (): void => {
    void readLog(options.file).then(file => {
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
    const onChunk = (chunk: string): void => { if (pending === null) out.write(chunk); else pending.push(chunk) }
    const onEnd = (note?: string): void => {
      last = note
      if (pending === null) out.end(last)
      else ended = true
    }
    const onClosing = (closing: Closing): void => {
      stopFollowing()
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
    const before = offset === 0 ? null : createReadStream(options.file, { start: 0, end: offset - 1 })
    void new Promise<void>(resolve => {
      if (before === null) return resolve()
      before.on('end', resolve)
      before.pipe(out, { end: false })
    }).then(() => {
      for (const chunk of pending!) out.write(chunk)
      pending = null
      if (ended) out.end(last)
    })
    if (live.closing !== null) onClosing(live.closing)
  }

  const current = live.get(id)
  if (current !== undefined) {
    attach(current)
    return out
  }
  const build = store.get(id)
  if (build === null || FINAL_STATUSES.has(build.status)) {
    sendWhole()
    return out
  }
  // Queued (or left running by a process that died): wait for it to start, or to end without running.
  const onOpened = (opened: number): void => {
    if (opened !== id) return
    stopWaiting()
    attach(live.get(id)!)
  }
  const onFinal = (event: FinalEvent): void => {
    if (event.id !== id) return
    stopWaiting()
    sendWhole()
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
  if (live.closing !== null) {
    onClosing()
    return out
  }
  live.on('opened', onOpened)
  store.on('final', onFinal)
  live.once('closing', onClosing)
  cleanups.push(stopWaiting)
  return out
}

/** The last line a follower gets when the service shuts down, in the log's own format. */
function closingLine (what: string): string {
  return `[build-hook] build-hook is shutting down: ${what}\n`
}
