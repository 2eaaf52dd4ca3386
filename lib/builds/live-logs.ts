import { EventEmitter } from 'node:events'
import type { BuildLog } from './build-log.js'

/** The logs of the builds this process is running now, for followers. */
export class LiveLogs extends EventEmitter<{ opened: [number] }> {
  readonly #logs = new Map<number, BuildLog>()

  constructor () {
    super()
    this.setMaxListeners(0) // one per follower waiting for a queued build
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
}
