import { EventEmitter } from 'node:events'
import type { ReportKind } from '../schemas/build.js'
import type { StatusHost } from '../commit-status/types.js'
import type { Log } from '../log.js'
import { DELIVERY_HEADER } from '../notify/notification.js'
import { SIGNATURE_HEADER, signBody } from '../notify/signature.js'
import type { Redactor } from '../secrets/redactor.js'
import type { DueReport, ReportStore } from '../store/report-store.js'
import { HttpClient, type HttpAnswer } from './http-client.js'
import { backoffMs, DEFAULT_RETRY_POLICY, judge, type RetryPolicy, type Verdict } from './retry-policy.js'

/**
 * Where a report goes now: a commit status with its host and token, or a notification with its signing secret;
 * `sendsTo` says whether a report made earlier still goes where the config now says (else its token or
 * secret would follow a URL the config no longer has).
 */
export type SendTarget = { sendsTo: (url: string) => boolean } & (
  | { kind: 'status', host: StatusHost, token: string }
  | { kind: 'notify', secret: string | null })

export const SEND_OUTCOMES = ['delivered', 'retried', 'failed'] as const
export type SendOutcome = typeof SEND_OUTCOMES[number]

/** An attempt ended: delivered, to be retried, or given up on. */
export interface SentEvent {
  buildId: number
  project: string
  kind: ReportKind
  outcome: SendOutcome
}

export interface ReportSenderOptions {
  store: ReportStore
  /** The project's target as configured now; undefined when the config no longer has it. */
  target: (project: string, target: string) => SendTarget | undefined
  redactor: Redactor
  log: Log
  /** Reports sent at once (each stream still one at a time). */
  concurrency?: number
  /** How long one attempt may take. */
  timeoutMs?: number
  policy?: Partial<RetryPolicy>
}

/**
 * Sends the store's reports in the background: each stream's oldest first, retried with capped backoff on
 * network errors, 408, 429 (at its Retry-After) and 5xx, given up after `giveUpAfterMs`. Nothing a build
 * does waits for it; what it has not sent when the process stops is sent after the next start.
 */
export class ReportSender extends EventEmitter<{ sent: [SentEvent] }> {
  readonly #options: ReportSenderOptions
  readonly #policy: RetryPolicy
  readonly #http = new HttpClient()
  readonly #stop = new AbortController()
  /** Streams with a report being sent, and its promise. */
  readonly #inFlight = new Map<string, Promise<void>>()
  #timer: NodeJS.Timeout | undefined
  #stopping = false

  constructor (options: ReportSenderOptions) {
    super()
    this.#options = options
    this.#policy = { ...DEFAULT_RETRY_POLICY, ...options.policy }
  }

  /** Sends what is due now, and wakes up when the next report is due. Call it after reports were added. */
  poke (): void {
    if (this.#stopping) return
    const { store, log } = this.#options
    const free = (this.#options.concurrency ?? 4) - this.#inFlight.size
    if (free > 0) {
      for (const report of store.due(new Date(), [...this.#inFlight.keys()], free)) {
        const sent = this.#send(report).catch((err: unknown) => {
          log.error({ err, buildId: report.buildId }, 'Sending a commit status or notification failed.')
          // Not at once again: whatever failed would most likely fail the same way.
          const error = this.#options.redactor.redact((err as Error).message)
          try {
            store.retry(report.id, { responseStatus: null, error }, new Date(Date.now() + backoffMs(report.attempts + 1, this.#policy)))
          } catch (storeErr) {
            log.error({ err: storeErr, buildId: report.buildId }, 'Recording a failed send failed.')
          }
        })
        this.#inFlight.set(report.stream, sent.finally(() => {
          this.#inFlight.delete(report.stream)
          this.poke()
        }))
      }
    }
    clearTimeout(this.#timer)
    // With every slot taken, each send that ends pokes again: no timer (it would fire at once, again and again).
    if (this.#inFlight.size >= (this.#options.concurrency ?? 4)) return
    const next = store.nextDueAt([...this.#inFlight.keys()])
    if (next === null) return
    // setTimeout's longest delay is about 24.8 days; a later report is looked at again then.
    this.#timer = setTimeout(() => this.poke(), Math.min(Math.max(0, next.getTime() - Date.now()), 2 ** 31 - 1))
  }

  /** Stops sending: reports being sent get `graceMs` to finish, then are interrupted (and sent after the next start). */
  async stop (graceMs: number): Promise<void> {
    this.#stopping = true
    clearTimeout(this.#timer)
    const pending = Promise.allSettled(this.#inFlight.values())
    let grace: NodeJS.Timeout | undefined
    await Promise.race([pending, new Promise(resolve => { grace = setTimeout(resolve, graceMs) })])
    clearTimeout(grace)
    this.#stop.abort()
    await pending
    this.#http.close()
  }

  async #send (report: DueReport): Promise<void> {
    const { store, redactor, log } = this.#options
    const target = this.#options.target(report.project, report.target)
    if (target === undefined || !target.sendsTo(report.request.url)) {
      const error = target === undefined ? `${report.label} is no longer in the configuration` : `${report.label} was configured with another URL since this was made: not sent`
      store.failed(report.id, { responseStatus: null, error })
      this.#sent(report, 'failed')
      return
    }
    let answer: HttpAnswer | undefined
    let verdict: Verdict
    try {
      answer = await this.#http.send(report.request, this.#headers(report, target), { timeoutMs: this.#options.timeoutMs ?? 10_000, signal: this.#stop.signal })
      verdict = judge(answer, new Date(), target.kind === 'status' ? target.host.alreadySet : () => false)
    } catch (err) {
      if (this.#stop.signal.aborted) return // shutting down: left as it was, sent after the next start
      verdict = { kind: 'retry', error: (err as Error).message, at: null }
    }
    const now = new Date()
    const responseStatus = answer?.statusCode ?? null
    if (verdict.kind === 'delivered') {
      store.delivered(report.id, { responseStatus, error: null }, now)
      this.#sent(report, 'delivered')
      return
    }
    const error = redactor.redact(verdict.error)
    const attempts = report.attempts + 1
    const at = verdict.kind === 'retry' ? verdict.at ?? new Date(now.getTime() + backoffMs(attempts, this.#policy)) : null
    const fields = { buildId: report.buildId, project: report.project, target: report.label, event: report.event, attempts, responseStatus, error }
    if (at === null || at.getTime() > Date.parse(report.createdAt) + this.#policy.giveUpAfterMs) {
      const final = at === null ? error : `gave up after ${attempts} attempt${attempts > 1 ? 's' : ''}: ${error}`
      store.failed(report.id, { responseStatus, error: final }, now)
      log.warn({ ...fields, error: final }, 'A commit status or notification could not be delivered.')
      this.#sent(report, 'failed')
      return
    }
    store.retry(report.id, { responseStatus, error }, at, now)
    log.info({ ...fields, nextAttemptAt: at.toISOString() }, 'A commit status or notification will be sent again.')
    this.#sent(report, 'retried')
  }

  #sent (report: DueReport, outcome: SendOutcome): void {
    this.emit('sent', { buildId: report.buildId, project: report.project, kind: report.kind, outcome })
  }

  #headers (report: DueReport, target: SendTarget): Readonly<Record<string, string>> {
    if (target.kind === 'status') return target.host.authorization(target.token)
    return {
      [DELIVERY_HEADER]: report.delivery,
      ...(target.secret === null ? {} : { [SIGNATURE_HEADER]: signBody(report.request.body, target.secret) })
    }
  }
}
