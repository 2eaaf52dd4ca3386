import http from 'node:http'

export interface SteadyRequest {
  method: string
  headers: Record<string, string>
  body: string
}

export interface SteadyResult {
  /** Answers read per second. */
  rps: number
  /** Latency percentiles and maximum, in ms, each counted from when its request was due. */
  p50: number
  p99: number
  max: number
  /** Requests that failed (no connection, an answer cut short, none within the timeout), answers that were not 2xx, answers that were 202. */
  errors: number
  non2xx: number
  accepted: number
}

export interface SteadyLoadOptions {
  url: string
  /** Requests per second, evenly spaced. */
  rate: number
  seconds: number
  /** At most this many kept-alive connections; a request due while all are busy waits for one. */
  connections?: number
  /** Each request's method, headers and body, made when it is due. */
  request: () => SteadyRequest
  /** A request not answered within this long counts as an error (30 s). */
  timeoutMs?: number
}

/**
 * An open load at an even rate, as the "steady offered rate" reads: a request due every 1/rate s,
 * sent when due over up to `connections` kept-alive connections (one due while all are busy waits for one),
 * whatever is still in flight. autocannon's `overallRate` is not that: each connection sends
 * its share of a second back to back at the start of the second, then waits for the next one
 * (`reqsMadeThisSecond` in its httpClient.js), so its p99 is that of a full-speed burst every second
 * (bench/results.md, step 19). Each latency is counted from when the request was due, not from when a
 * connection was free to send it, so that a stall counts for every request it held back.
 */
export async function steadyLoad ({ url, rate, seconds, connections = 50, request, timeoutMs = 30_000 }: SteadyLoadOptions): Promise<SteadyResult> {
  const target = new URL(url)
  const agent = new http.Agent({ keepAlive: true, maxSockets: connections })
  const total = Math.round(rate * seconds)
  const latencies: number[] = []
  let errors = 0
  let non2xx = 0
  let accepted = 0
  const inFlight = new Set<Promise<void>>()
  const send = (due: number): void => {
    const { method, headers, body } = request()
    const done = new Promise<void>(resolve => {
      // Once per request: an answer read to its end, or an error (which may also come after a cut-short answer).
      let settled = false
      const settle = (answered: number | null): void => {
        if (settled) return
        settled = true
        if (answered === null) errors++
        else {
          latencies.push(performance.now() - due)
          if (answered === 202) accepted++
          if (!(answered >= 200 && answered <= 299)) non2xx++
        }
        resolve()
      }
      const req = http.request({ agent, method, host: target.hostname, port: target.port, path: target.pathname, headers: { ...headers, 'content-length': Buffer.byteLength(body) } }, res => {
        res.resume()
        res.on('end', () => settle(Number(res.statusCode)))
        res.on('close', () => settle(null))
      })
      req.setTimeout(timeoutMs, () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)))
      req.on('error', () => settle(null))
      req.end(body)
    })
    inFlight.add(done)
    void done.then(() => inFlight.delete(done))
  }
  const started = performance.now()
  const interval = 1000 / rate
  let next = 0
  await new Promise<void>(resolve => {
    const tick = (): void => {
      const now = performance.now()
      while (next < total && started + next * interval <= now) send(started + interval * next++)
      if (next < total) setTimeout(tick, Math.max(0, started + next * interval - performance.now()))
      else resolve()
    }
    tick()
  })
  await Promise.all(inFlight)
  const elapsed = (performance.now() - started) / 1000
  agent.destroy()
  latencies.sort((a, b) => a - b)
  const at = (share: number): number => latencies.length === 0 ? 0 : round(latencies[Math.min(latencies.length - 1, Math.ceil(share * latencies.length) - 1)]!)
  return { rps: latencies.length / elapsed, p50: at(0.5), p99: at(0.99), max: at(1), errors, non2xx, accepted }
}

const round = (ms: number): number => Math.round(ms * 10) / 10
