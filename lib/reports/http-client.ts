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
        timeout: options.timeoutMs,
        signal: options.signal
      }, res => {
        const chunks: Buffer[] = []
        let size = 0
        res.on('data', (chunk: Buffer) => {
          if (size < MAX_ANSWER_BYTES) chunks.push(chunk)
          size += chunk.length
        })
        res.on('end', () => resolve({ statusCode: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks).subarray(0, MAX_ANSWER_BYTES).toString('utf8') }))
        res.on('error', reject)
      })
      req.on('timeout', () => req.destroy(new Error(`no answer within ${options.timeoutMs / 1000} s`)))
      req.on('error', reject)
      req.end(request.body)
    })
  }

  close (): void {
    this.#agents.http.destroy()
    this.#agents.https.destroy()
  }
}
