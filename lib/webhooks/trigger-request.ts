import type { ProjectSettings } from '../config/index.js'
import { decodePayload } from './body.js'
import { decide, type Decision } from './decide.js'
import { detectHost } from './hosts.js'
import { header, WebhookPayloadError, type Headers } from './types.js'

/**
 * What a request to POST /<slug> asks for, once authenticated: a Git host's delivery (by its event
 * header), or a plain API call whose body is empty or {"commit": "<40 hex>"}. Throws
 * WebhookPayloadError for a body that is neither (400).
 */
export function interpretTrigger (headers: Headers, raw: Buffer | undefined, project: ProjectSettings): Decision {
  const host = detectHost(headers)
  if (host !== undefined) {
    const payload = decodePayload(raw ?? Buffer.alloc(0), header(headers, 'content-type'))
    return decide(host.parse(headers, payload), project)
  }
  return { action: 'build', trigger: { source: 'api', event: 'trigger', ...apiCommit(raw) } }
}

const API_BODY = 'the body must be empty or {"commit": "<40 hex>"}'

function apiCommit (raw: Buffer | undefined): { commit?: string } {
  if (raw === undefined || raw.length === 0) return {}
  let body: unknown
  try {
    body = JSON.parse(raw.toString('utf8'))
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
