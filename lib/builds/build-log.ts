import { EventEmitter } from 'node:events'
import { createWriteStream, mkdirSync, statSync, type WriteStream } from 'node:fs'
import path from 'node:path'
import type { Redactor } from '../secrets/redactor.js'

export const DEFAULT_MAX_LOG_BYTES = 10 * 1024 * 1024

function existingSize (file: string): number {
  try {
    return statSync(file).size
  } catch {
    return 0
  }
}

export function buildLogPath (dataDir: string, buildId: number): string {
  return path.join(path.resolve(dataDir), 'logs', `${buildId}.log`)
}

/**
 * A build's log file: every line of every child, prefixed with its image, secrets redacted, capped at
 * `maxBytes` (what passes the cap is counted, and the count written when the log closes). Emits each
 * chunk once it is in the file, in order, and `end` once the file is complete, for live followers.
 * A file that cannot be written (a full disk, a directory gone) never throws: `failed` is emitted once,
 * with the reason, and every later line is dropped.
 */
export class BuildLog extends EventEmitter<{ chunk: [string], end: [], failed: [Error] }> {
  readonly file: string
  readonly #stream: WriteStream
  readonly #redactor: Redactor
  readonly #maxBytes: number
  #bytes = 0
  #flushed = 0
  #dropped = 0
  #failure: Error | null = null

  constructor (file: string, redactor: Redactor, maxBytes = DEFAULT_MAX_LOG_BYTES) {
    super()
    this.setMaxListeners(0) // one per follower, however many: each leaves when its client does
    try {
      mkdirSync(path.dirname(file), { recursive: true })
    } catch { /* opening the file below fails too, and that failure is reported as the log's */ }
    this.file = file
    // The next attempt of a build appends to the log of the previous ones: that much is in the file already.
    this.#flushed = existingSize(file)
    this.#stream = createWriteStream(file, { flags: 'a' })
    this.#stream.on('error', err => this.#fail(err))
    this.#redactor = redactor
    this.#maxBytes = maxBytes
  }

  /** Bytes of this log that are in the file now (what a new follower reads before the next chunk). */
  get flushed (): number {
    return this.#flushed
  }

  /** Why the file could not be written, once that happened (a one-line message naming the file). */
  get failure (): Error | null {
    return this.#failure
  }

  /** Writes `[prefix] line`, redacted; returns the line as written (or null once the cap is reached or the file failed). */
  write (prefix: string, line: string): string | null {
    if (this.#failure !== null) return null
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
    this.#stream.write(chunk, err => {
      if (err != null) return // reported once, through the stream's 'error'
      this.#flushed += Buffer.byteLength(chunk)
      this.emit('chunk', chunk)
    })
  }

  // A stream emits 'error' once, then is destroyed: this runs at most once.
  #fail (err: Error): void {
    this.#failure = new Error(`the build log ${this.file} could not be written: ${err.message}`, { cause: err })
    this.emit('failed', this.#failure)
  }

  /** Ends the file once everything written is in it (or it failed); never rejects. */
  async close (): Promise<void> {
    if (this.#dropped > 0 && this.#failure === null) this.#append(`[build-hook] log truncated at ${this.#maxBytes} bytes: ${this.#dropped} more lines not kept\n`)
    // Called once the file is finished, or at once with the error of a stream that failed.
    await new Promise<void>(resolve => this.#stream.end(() => resolve()))
    this.emit('end')
  }
}
