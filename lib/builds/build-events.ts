import type { BuildStore, ChangeEvent, UpdateEvent } from '../store/build-store.js'

/** One subscriber of the event stream (an open GET /events). */
export interface BuildEventSubscriber {
  /** A build changed: its whole record, serialised once for every subscriber. */
  build: (json: string) => void
  /** The service is shutting down: end the stream. */
  close: () => void
}

/** What the stream needs of the build store: its records, and its change and update events. */
export type BuildEventSource = Pick<BuildStore, 'get' | 'on' | 'off'>

/** The part of an open event stream (@fastify/sse's reply.sse) that a subscriber writes to. */
export interface EventStream {
  readonly isConnected: boolean
  /** The client stopped reading: what is written for it piles up in memory. */
  readonly backlogged: boolean
  send: (message: { event: string, data: string }) => Promise<void>
  close: () => void
}

/**
 * A subscriber writing to `stream`: a stream that closed (or fails a write) misses the event, and one whose
 * client stopped reading is closed (it reconnects, and reads the state again); its close unsubscribes it.
 */
export function streamSubscriber (stream: EventStream): BuildEventSubscriber {
  return {
    build: json => {
      if (!stream.isConnected) return
      if (stream.backlogged) {
        stream.close()
        return
      }
      stream.send({ event: 'build', data: json }).catch(() => {})
    },
    close: () => stream.close()
  }
}

/**
 * Fans the store's build changes out to the open event streams: each change is read and serialised once,
 * whatever the number of subscribers, and nothing is read while nobody listens.
 */
export class BuildEvents {
  readonly #store: BuildEventSource
  readonly #subscribers = new Set<BuildEventSubscriber>()
  readonly #onChange = (event: ChangeEvent | UpdateEvent): void => this.changed(event.id)
  #closed = false

  constructor (store: BuildEventSource) {
    this.#store = store
    store.on('change', this.#onChange)
    store.on('updated', this.#onChange)
  }

  get size (): number {
    return this.#subscribers.size
  }

  /** Returns the unsubscribe function; a subscriber after shutDown is closed at once. */
  subscribe (subscriber: BuildEventSubscriber): () => void {
    if (this.#closed) {
      subscriber.close()
      return () => {}
    }
    this.#subscribers.add(subscriber)
    return () => { this.#subscribers.delete(subscriber) }
  }

  /** Ends every stream (the server waits for open responses before it closes) and stops listening. */
  shutDown (): void {
    this.#closed = true
    this.#store.off('change', this.#onChange)
    this.#store.off('updated', this.#onChange)
    for (const subscriber of this.#subscribers) subscriber.close()
    this.#subscribers.clear()
  }

  /** Build `id`'s record changed (its status, an image, its deploy, or one of its reports). */
  changed (id: number): void {
    if (this.#subscribers.size === 0) return
    const json = JSON.stringify(this.#store.get(id))
    for (const subscriber of this.#subscribers) subscriber.build(json)
  }
}
