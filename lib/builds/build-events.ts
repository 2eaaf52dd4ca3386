import type { ChangeEvent } from '../store/build-store.js'
import type { BuildRecord } from './record.js'

/** One subscriber of the event stream (an open GET /events). */
export interface BuildEventSubscriber {
  /** A build changed: its whole record, serialised once for every subscriber. */
  build: (json: string) => void
  /** The service is shutting down: end the stream. */
  close: () => void
}

export interface BuildEventSource {
  get: (id: number) => BuildRecord | null
  on: (event: 'change', listener: (event: ChangeEvent) => void) => unknown
  off: (event: 'change', listener: (event: ChangeEvent) => void) => unknown
}

/** The part of an open event stream (@fastify/sse's reply.sse) that a subscriber writes to. */
export interface EventStream {
  readonly isConnected: boolean
  send: (message: { event: string, data: string }) => Promise<void>
  close: () => void
}

/** A subscriber writing to `stream`: a stream that closed (or fails a write) misses the event; its close unsubscribes it. */
export function streamSubscriber (stream: EventStream): BuildEventSubscriber {
  return {
    build: json => {
      if (!stream.isConnected) return
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
  readonly #onChange = (event: ChangeEvent): void => this.#changed(event)
  #closed = false

  constructor (store: BuildEventSource) {
    this.#store = store
    store.on('change', this.#onChange)
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
    for (const subscriber of this.#subscribers) subscriber.close()
    this.#subscribers.clear()
  }

  #changed (event: ChangeEvent): void {
    if (this.#subscribers.size === 0) return
    const json = JSON.stringify(this.#store.get(event.id))
    for (const subscriber of this.#subscribers) subscriber.build(json)
  }
}
