import type { Source } from '../schemas/build.js'

/** Request headers as Node gives them: lower-case names. */
export type Headers = Readonly<Record<string, string | string[] | undefined>>

/** One ref a push moved: a branch or tag, to a commit, or deleted. */
export interface RefUpdate {
  /** Full ref name: refs/heads/<branch> or refs/tags/<tag>. */
  ref: string
  /** The commit the ref points at after the push; null when it was deleted. */
  commit: string | null
  deleted: boolean
}

/** What a Git host delivered, in the same terms for every host. */
export interface Delivery {
  source: Exclude<Source, 'api' | 'rollback'>
  /** The host's event name (push, Push Hook, repo:push, ping, delete, ...). */
  event: string
  kind: 'push' | 'ping' | 'other'
  /** The host's delivery id, which a redelivery repeats; null when it sends none. */
  delivery: string | null
  updates: RefUpdate[]
  /** Every URL the payload gives for the repository (clone, web, ssh). */
  repositoryUrls: string[]
  sender: string | null
}

/** One Git host: how to recognise, verify and read its webhook deliveries. */
export interface WebhookHost {
  source: Delivery['source']
  /** The host's name as its users know it, for messages. */
  name: string
  /** The header naming the event, written as the host writes it. */
  eventHeader: string
  /** The headers that carry its signature or token, written as the host writes them. */
  signatureHeaders: readonly string[]
  /** Whether the request carries this host's event header. */
  detect: (headers: Headers) => boolean
  /** Whether the request is signed (or carries the token) with `secret`, in constant time. */
  verify: (headers: Headers, raw: Buffer, secret: string, options: { allowSha1: boolean }) => boolean
  /** Reads a verified, decoded payload; throws WebhookPayloadError when it lacks what it must have. */
  parse: (headers: Headers, payload: Record<string, unknown>) => Delivery
}

/** A payload that is not what its host sends: the sender's mistake (POST /<slug> answers 400). */
export class WebhookPayloadError extends Error {
  constructor (message: string) {
    super(message)
    this.name = 'WebhookPayloadError'
  }
}

export const ZERO_SHA = '0000000000000000000000000000000000000000'

export function header (headers: Headers, name: string): string | undefined {
  const value = headers[name]
  return Array.isArray(value) ? value[0] : value
}
