import http, { type IncomingHttpHeaders } from 'node:http'
import https from 'node:https'
import type { StoredRequest } from '../store/report-store.js'

export interface HttpAnswer {
  statusCode: number
  headers: IncomingHttpHeaders
  /** The body as text, cut after MAX_ANSWER_BYTES (only error messages are read from it). */
  body: string
}

const MAX_ANSWER_BYTES = 64 * 1024

/**
 * POSTs of reports over keep-alive connections of its own, which `close` ends (a test's double, or the
 * process, is never held up by a pooled socket). Redirects are not followed: a token goes nowhere else.
 */
export class HttpClient {
  readonly #agents = { http: new http.Agent({ keepAlive: true }), https: new https.Agent({ keepAlive: true }) }

  send (request: StoredRequest, headers: Readonly<Record<string, string>>, options: { timeoutMs: number, signal: AbortSignal }): Promise<HttpAnswer> {
    const url = new URL(request.url)
    const secure = url.protocol === 'https:'
    const send = secure ? https.request : http.request
    return new Promise((resolve, reject) => {
      const req = send(url, {
        method: request.method,
        headers: { ...request.headers, ...headers, 'Content-Length': Buffer.byteLength(request.body) },
        agent: secure ? this.#agents.https : this.#agents.http,
        signal: options.signal
      }, res => {
        const chunks: Buffer[] = []
        let size = 0
        res.on('data', (chunk: Buffer) => {
          if (size < MAX_ANSWER_BYTES) chunks.push(chunk)
          size += chunk.length
        })
        res.on('end', () => {
          clearTimeout(deadline)
          resolve({ statusCode: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks).subarray(0, MAX_ANSWER_BYTES).toString('utf8') })
        })
        res.on('error', reject)
      })
      // The whole exchange, not only silence: a receiver that trickles bytes must not hold a send forever.
      const deadline = setTimeout(() => req.destroy(new Error(`no whole answer within ${options.timeoutMs / 1000} s`)), options.timeoutMs)
      req.on('error', err => {
        clearTimeout(deadline)
        reject(err)
      })
      req.end(request.body)
    })
  }

  close (): void {
    this.#agents.http.destroy()
    this.#agents.https.destroy()
  }
}
