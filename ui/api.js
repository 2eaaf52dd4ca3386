// The API, read with the bearer token: kept in sessionStorage (this tab only, gone when it closes) and sent
// only in the Authorization header, never in a URL. No cookie: a page of another site cannot act as the user.

/** @typedef {import('../lib/schemas/build.js').BuildRecord} BuildRecord */
/** @typedef {import('../lib/schemas/build.js').BuildStatus} BuildStatus */
/** @typedef {import('../lib/schemas/build.js').Deployed} Deployed */
/**
 * @typedef {{ slug: string, name: string, repository: string, branch: string,
 *   images: Array<{ image: string, dockerfile: string, context: string }>,
 *   deployments: { namespace: string, resources: string[], strategy: string } | null,
 *   deployed: Deployed | null,
 *   lastBuild: { id: number, status: BuildStatus, commit: string, createdAt: string, finishedAt: string | null } | null }} Project
 */

const KEY = 'build-hook.token'

export const token = {
  get: () => sessionStorage.getItem(KEY),
  /** @param {string} value */
  set: value => sessionStorage.setItem(KEY, value),
  clear: () => sessionStorage.removeItem(KEY)
}

/** An answer other than 2xx: the API's own message ({statusCode, error, message}). */
export class ApiError extends Error {
  /** @param {number} status @param {string} message */
  constructor (status, message) {
    super(message)
    this.status = status
  }
}

/** Called when the API refuses the token (set by the app: back to sign-in). @type {() => void} */
let refused = () => {}
/** @param {() => void} handler */
export const onRefused = handler => { refused = handler }

/** The API's URL for `path`, relative to the dashboard (/ui/), so that a path prefix in front of the service works. @param {string} path */
export const url = path => new URL(`../${path.replace(/^\//, '')}`, document.baseURI).href

/** @param {string} path @param {RequestInit & { json?: unknown }} [init] */
async function send (path, init = {}) {
  const { json, ...rest } = init
  const headers = new Headers(rest.headers)
  headers.set('authorization', `Bearer ${token.get() ?? ''}`)
  if (json !== undefined) headers.set('content-type', 'application/json')
  const res = await fetch(url(path), { ...rest, headers, ...(json === undefined ? {} : { body: JSON.stringify(json) }) })
  if (res.status === 401) {
    refused()
    throw new ApiError(401, 'That token was refused')
  }
  if (!res.ok) {
    const text = await res.text()
    let message = `${res.status} ${res.statusText}`
    try { message = JSON.parse(text).message ?? message } catch { /* not JSON: the status line */ }
    throw new ApiError(res.status, message)
  }
  return res
}

/**
 * A JSON answer of the API.
 * @template T
 * @param {string} path
 * @param {RequestInit & { json?: unknown }} [init]
 * @returns {Promise<T>}
 */
export async function api (path, init) {
  const res = await send(path, init)
  return /** @type {T} */ (await res.json())
}

/** GET /projects. @param {AbortSignal} [signal] @returns {Promise<Project[]>} */
export async function readProjects (signal) {
  const answer = /** @type {{ projects: Project[] }} */ (await api('projects', signal === undefined ? {} : { signal }))
  return answer.projects
}

/**
 * Reads a streamed text body chunk by chunk until it ends or `signal` aborts.
 * @param {string} path @param {AbortSignal} signal @param {(text: string) => void} onText @param {HeadersInit} [headers]
 */
export async function stream (path, signal, onText, headers) {
  const res = await send(path, { signal, ...(headers === undefined ? {} : { headers }) })
  if (res.body === null) return
  const reader = res.body.pipeThrough(new TextDecoderStream()).getReader()
  for (;;) {
    const { value, done } = await reader.read()
    if (done) return
    onText(value)
  }
}

/**
 * GET /events (EventSource cannot send a header, so fetch): each event as it comes. Blocks end with a blank
 * line; `event:` and `data:` lines make the event; `:` lines are comments (heartbeats).
 * @param {AbortSignal} signal @param {(event: string, data: string) => void} onEvent
 * @param {() => void} [onBytes] called on every chunk that arrives (heartbeats too)
 */
export async function events (signal, onEvent, onBytes) {
  let buffer = ''
  await stream('events', signal, text => {
    onBytes?.()
    buffer += text.replace(/\r/g, '')
    let end
    while ((end = buffer.indexOf('\n\n')) >= 0) {
      const block = buffer.slice(0, end)
      buffer = buffer.slice(end + 2)
      let event = 'message'
      const data = []
      for (const line of block.split('\n')) {
        if (line.startsWith(':')) continue
        const [field, ...rest] = line.split(':')
        const value = rest.join(':').replace(/^ /, '')
        if (field === 'event') event = value
        else if (field === 'data') data.push(value)
      }
      if (data.length > 0) onEvent(event, data.join('\n'))
    }
  }, { accept: 'text/event-stream' })
}
