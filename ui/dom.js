// DOM helpers: every text goes in with textContent (commit messages, branches and errors are the users'),
// never through HTML strings.

/** @typedef {Node | string | number | null | undefined | false} Child */
/** @typedef {Record<string, string | number | boolean | null | undefined | ((event: Event) => void)>} Attrs */

/**
 * An element with attributes (a function is an event listener: `onclick`) and children (strings become text).
 * @template {keyof HTMLElementTagNameMap} K
 * @param {K} tag
 * @param {Attrs | null} [attrs]
 * @param {...(Child | Child[])} children
 * @returns {HTMLElementTagNameMap[K]}
 */
export function h (tag, attrs, ...children) {
  const element = document.createElement(tag)
  for (const [name, value] of Object.entries(attrs ?? {})) {
    if (typeof value === 'function') element.addEventListener(name.slice(2), value)
    else if (value === true) element.setAttribute(name, '')
    else if (value !== false && value !== null && value !== undefined) element.setAttribute(name, String(value))
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue
    element.append(typeof child === 'object' ? child : String(child))
  }
  return element
}

/** Replaces the children of `parent`. @param {Element} parent @param {...(Child | Child[])} children */
export function fill (parent, ...children) {
  parent.replaceChildren(...h('div', null, ...children).childNodes)
}

/** @param {string | null | undefined} sha */
export const short = sha => (sha ?? '').slice(0, 12)

/** A digest shortened to its algorithm and 12 hex digits. @param {string | null | undefined} digest */
export const shortDigest = digest => digest === null || digest === undefined ? '' : digest.replace(/^(sha256:)?([0-9a-f]{12})[0-9a-f]*$/, '$1$2')

/** "3 min ago" from an ISO time. @param {string} iso @param {number} [now] */
export function relative (iso, now = Date.now()) {
  const seconds = Math.round((now - Date.parse(iso)) / 1000)
  const future = seconds < 0
  const s = Math.abs(seconds)
  const text = s < 10
    ? 'just now'
    : s < 60 ? `${s} s` : s < 3600 ? `${Math.floor(s / 60)} min` : s < 86400 ? `${Math.floor(s / 3600)} h` : `${Math.floor(s / 86400)} d`
  if (text === 'just now') return text
  return future ? `in ${text}` : `${text} ago`
}

/** A relative time, the exact local time on hover; refreshed by `refreshTimes`. @param {string | null | undefined} iso */
export function time (iso) {
  if (iso === null || iso === undefined) return h('span', { class: 'muted' }, '—')
  return h('time', { datetime: iso, title: new Date(iso).toLocaleString() + ` (${iso})` }, relative(iso))
}

export function refreshTimes () {
  for (const element of document.querySelectorAll('time[datetime]')) {
    element.textContent = relative(element.getAttribute('datetime') ?? '')
  }
}

/** A status as its word and its colour (the class). @param {string} status */
export const badge = status => h('span', { class: `status status-${status}` }, status)

/** A duration in milliseconds as "1 min 5 s". @param {number | null | undefined} ms */
export function duration (ms) {
  if (ms === null || ms === undefined) return '—'
  const s = Math.round(ms / 1000)
  return s < 60 ? `${s} s` : `${Math.floor(s / 60)} min ${s % 60} s`
}

/** A definition list from [term, value] pairs; pairs whose value is null are left out. @param {Array<[string, Child | Child[]]>} rows */
export function details (rows) {
  return h('dl', { class: 'details' }, rows.filter(([, value]) => value !== null && value !== undefined).flatMap(([term, value]) => [h('dt', null, term), h('dd', null, value)]))
}
