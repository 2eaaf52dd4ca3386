import { EventEmitter } from 'node:events'
import type { BuildLog } from './build-log.js'

/** The service began shutting down: running builds go on for `graceMs` more, then are cancelled. */
export interface Closing {
  graceMs: number
}

/** The logs of the builds this process is running now, for followers. */
export class LiveLogs extends EventEmitter<{ opened: [number], closing: [Closing] }> {
  readonly #logs = new Map<number, BuildLog>()
  #closing: Closing | null = null

  constructor () {
    super()
    this.setMaxListeners(0) // one per follower waiting for a queued build
  }

  /** Set once the service is shutting down. */
  get closing (): Closing | null {
    return this.#closing
  }

  open (id: number, log: BuildLog): void {
    this.#logs.set(id, log)
    this.emit('opened', id)
  }

  close (id: number): void {
    this.#logs.delete(id)
  }

  get (id: number): BuildLog | undefined {
    return this.#logs.get(id)
  }

  /**
   * Ends every follower, with a last line saying why: the server waits for open responses before it
   * closes, so a follower left open would hold the shutdown (and the running builds' grace period) back.
   */
  shutDown (closing: Closing): void {
    if (this.#closing !== null) return
    this.#closing = closing
    this.emit('closing', closing)
  }
}
