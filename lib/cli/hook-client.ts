import http, { type IncomingMessage } from 'node:http'
import https from 'node:https'
import { CliError, EXIT } from './cli-error.js'
import type { Service } from './service.js'

// node:http rather than fetch: undici's 300 s headers and body timeouts would end a follow of a build that
// waits in the queue or prints nothing for five minutes; these requests have no timeout.

export interface RequestOptions {
  method?: 'GET' | 'POST'
  /** Sent as JSON. */
  body?: unknown
  /** Aborts the request, or the reading of its answer. */
  signal?: AbortSignal
}

/** What an error of the network says, also for an AggregateError (every address refused), whose message is empty. */
export function networkReason (err: NodeJS.ErrnoException): string {
  return err.message !== '' ? err.message : String(err.code)
}

/** The server's `message` of a JSON error, else the answer's text as it is (a proxy's page), else the status text. */
export function errorMessage (text: string, statusMessage: string): string {
  try {
    const { message } = JSON.parse(text) as { message?: unknown }
    if (typeof message === 'string') return message
  } catch { /* not JSON */ }
  return text.trim() === '' ? statusMessage : text.trim()
}

/** 401/403 (the token) and 5xx (the service) mean the service cannot serve this client; any other 4xx refuses the request. */
function refusal (status: number, statusMessage: string, text: string): CliError {
  const message = `${status} ${statusMessage}: ${errorMessage(text, statusMessage)}`
  if (status === 401 || status === 403) return new CliError(`${message} (check the token: HOOK_TOKEN, --token-file or --token)`, EXIT.unavailable)
  return new CliError(message, status >= 500 ? EXIT.unavailable : EXIT.failed)
}

/** The service's HTTP API, authenticated with the bearer token. */
export class HookClient {
  constructor (private readonly service: Service) {}

  /** The answer of a 2xx, as a stream; any other status, or no answer, is a CliError. */
  async open (path: string, options: RequestOptions = {}): Promise<IncomingMessage> {
    const url = new URL(path, this.service.url)
    const body = options.body === undefined ? undefined : JSON.stringify(options.body)
    const response = await new Promise<IncomingMessage>((resolve, reject) => {
      const request = (url.protocol === 'https:' ? https : http).request(url, {
        method: options.method ?? 'GET',
        agent: false, // one connection per request, closed after it: nothing keeps the process alive
        signal: options.signal,
        headers: { authorization: `Bearer ${this.service.token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) }
      }, resolve)
      request.on('error', (err: NodeJS.ErrnoException) => {
        reject(options.signal?.aborted === true ? err : new CliError(`cannot reach ${this.service.url.href}: ${networkReason(err)}`, EXIT.unavailable))
      })
      request.end(body)
    })
    const status = response.statusCode!
    if (status < 200 || status > 299) throw refusal(status, response.statusMessage!, await this.read(response))
    return response
  }

  async text (path: string, options?: RequestOptions): Promise<string> {
    return this.read(await this.open(path, options))
  }

  async json<T> (path: string, options?: RequestOptions): Promise<T> {
    const text = await this.text(path, options)
    try {
      return JSON.parse(text) as T
    } catch {
      throw new CliError(`${this.service.url.href} answered ${path} with something other than JSON: is it build-hook?`, EXIT.unavailable)
    }
  }

  private async read (response: IncomingMessage): Promise<string> {
    response.setEncoding('utf8')
    let text = ''
    try {
      for await (const chunk of response) text += chunk as string
    } catch (err) {
      throw new CliError(`lost the connection to ${this.service.url.href}: ${networkReason(err as NodeJS.ErrnoException)}`, EXIT.unavailable)
    }
    return text
  }
}
