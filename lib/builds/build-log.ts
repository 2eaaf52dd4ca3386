import { EventEmitter } from 'node:events'
import { createWriteStream, mkdirSync, type WriteStream } from 'node:fs'
import path from 'node:path'
import type { Redactor } from '../secrets/redactor.js'

export const DEFAULT_MAX_LOG_BYTES = 10 * 1024 * 1024

export function buildLogPath (dataDir: string, buildId: number): string {
  return path.join(path.resolve(dataDir), 'logs', `${buildId}.log`)
}

/**
 * A build's log file: every line of every child, prefixed with its image, secrets redacted, capped at
 * `maxBytes` (what passes the cap is counted, and the count written when the log closes). Emits each
 * chunk once it is in the file, in order, and `end` once the file is complete, for live followers.
 */
export class BuildLog extends EventEmitter<{ chunk: [string], end: [] }> {
  readonly file: string
  readonly #stream: WriteStream
  readonly #redactor: Redactor
  readonly #maxBytes: number
  #bytes = 0
  #flushed = 0
  #dropped = 0

  constructor (file: string, redactor: Redactor, maxBytes = DEFAULT_MAX_LOG_BYTES) {
    super()
    this.setMaxListeners(0) // one per follower, however many: each leaves when its client does
    mkdirSync(path.dirname(file), { recursive: true })
    this.file = file
    this.#stream = createWriteStream(file, { flags: 'a' })
    this.#redactor = redactor
    this.#maxBytes = maxBytes
  }

  /** Bytes of this log that are in the file now (what a new follower reads before the next chunk). */
  get flushed (): number {
    return this.#flushed
  }

  /** Writes `[prefix] line`, redacted; returns the line as written (or null once the cap is reached). */
  write (prefix: string, line: string): string | null {
    const text = `[${prefix}] ${this.#redactor.redact(line)}`
    const bytes = Buffer.byteLength(text) + 1
    if (this.#bytes + bytes > this.#maxBytes) {
      this.#dropped++
      return null
    }
    this.#bytes += bytes
    this.#append(text + '\n')
    return text
  }

  #append (chunk: string): void {
    this.#stream.write(chunk, () => {
      this.#flushed += Buffer.byteLength(chunk)
      this.emit('chunk', chunk)
    })
  }

  async close (): Promise<void> {
    if (this.#dropped > 0) this.#append(`[build-hook] log truncated at ${this.#maxBytes} bytes: ${this.#dropped} more lines not kept\n`)
    await new Promise<void>(resolve => this.#stream.end(resolve))
    this.emit('end')
  }
}
