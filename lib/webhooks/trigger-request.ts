import type { ProjectSettings } from '../config/index.js'
import { bodyText, decodePayload } from './body.js'
import { decide, type Decision } from './decide.js'
import { detectHost } from './hosts.js'
import { header, WebhookPayloadError, type Delivery, type Headers } from './types.js'
import type { Redactor } from '../secrets/redactor.js'

/**
 * What a request to POST /<slug> asks for, once authenticated: a Git host's delivery (by its event
 * header), or a plain API call whose body is empty or {"commit": "<40 hex>"}. Throws
 * WebhookPayloadError for a body that is neither (400). Every text a delivery carries has the values of
 * configured secrets replaced, so that none reaches a build record, an answer or a log line.
 */
export function interpretTrigger (headers: Headers, raw: Buffer | undefined, project: ProjectSettings, redactor: Redactor): Decision {
  const host = detectHost(headers)
  const contentType = header(headers, 'content-type')
  if (host !== undefined) {
    const payload = decodePayload(raw ?? Buffer.alloc(0), contentType)
    return decide(redactDelivery(host.parse(headers, payload), redactor), project)
  }
  return { action: 'build', trigger: { source: 'api', event: 'trigger', ...apiCommit(raw, contentType) } }
}

function redactDelivery (delivery: Delivery, redactor: Redactor): Delivery {
  const redact = (text: string | null): string | null => text === null ? null : redactor.redact(text)
  return {
    ...delivery,
    event: redactor.redact(delivery.event),
    delivery: redact(delivery.delivery),
    sender: redact(delivery.sender),
    repositoryUrls: delivery.repositoryUrls.map(url => redactor.redact(url)),
    updates: delivery.updates.map(update => ({ ...update, ref: redactor.redact(update.ref) }))
  }
}

const API_BODY = 'the body must be empty or {"commit": "<40 hex>"}'

// `curl -d '{"commit": ...}'` sends JSON with the form content type: the body is JSON either way.
function apiCommit (raw: Buffer | undefined, contentType: string | undefined): { commit?: string } {
  if (raw === undefined || raw.length === 0) return {}
  let body: unknown
  try {
    body = JSON.parse(bodyText(raw, contentType))
  } catch {
    throw new WebhookPayloadError(`${API_BODY}: it is not valid JSON`)
  }
  if (typeof body !== 'object' || body === null || Array.isArray(body) || Object.keys(body).some(key => key !== 'commit')) {
    throw new WebhookPayloadError(API_BODY)
  }
  const { commit } = body as { commit?: unknown }
  if (commit === undefined) return {}
  if (typeof commit !== 'string' || !/^[0-9a-f]{40}$/i.test(commit)) throw new WebhookPayloadError(`commit must be a full 40-hex SHA: ${API_BODY}`)
  return { commit }
}
