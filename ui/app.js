// The dashboard: hash routes (#/, #/builds?project=&status=, #/builds/42), every change from GET /events.
import { api, ApiError, events, onRefused, readProjects, stream, token } from './api.js'
import { badge, details, duration, fill, h, refreshTimes, short, shortDigest, time } from './dom.js'

/** @typedef {import('./api.js').BuildRecord} BuildRecord */
/** @typedef {import('./api.js').Project} Project */

const STATUSES = ['queued', 'running', 'succeeded', 'failed', 'cancelled', 'superseded']
const FINAL = new Set(['succeeded', 'failed', 'cancelled', 'superseded'])
const PAGE_SIZE = 25
/** No byte (event or heartbeat, sent every 15 s) for this long: the connection is taken as dead. */
const SILENCE_MS = 45_000

const main = /** @type {HTMLElement} */ (document.getElementById('main'))
const nav = /** @type {HTMLElement} */ (document.getElementById('nav'))
const live = /** @type {HTMLElement} */ (document.getElementById('live'))
const signOutButton = /** @type {HTMLButtonElement} */ (document.getElementById('sign-out'))

/** What the page on screen does with a changed build (each page sets its own). @type {(build: BuildRecord) => void} */
let onBuild = () => {}
/** Aborts the page's own streams (a build's log) when another page is shown. */
let page = new AbortController()
/** Aborts the event stream on sign-out. */
let session = new AbortController()
/** The projects, as last read: the builds filter and the rollback button need them. @type {Project[]} */
let projects = []

// ---- Sign-in --------------------------------------------------------------------------------------------

/** @param {string} [message] */
function showSignIn (message) {
  session.abort()
  page.abort()
  nav.hidden = true
  live.hidden = true
  signOutButton.hidden = true
  // No name: a form submit that slipped past the script can never put the token in a URL.
  const input = h('input', { id: 'token', type: 'password', autocomplete: 'current-password', required: true, spellcheck: 'false' })
  const error = h('p', { class: 'error', role: 'alert' }, message)
  const form = h('form', { class: 'card sign-in', method: 'post', action: '#', 'aria-labelledby': 'sign-in-title' },
    h('h1', { id: 'sign-in-title' }, 'Sign in'),
    h('label', { for: 'token' }, 'Bearer token'),
    input,
    h('p', { class: 'hint' }, 'One of the service\'s BEARER_TOKENS. It is kept in this tab only (sessionStorage) and sent in the Authorization header.'),
    error,
    h('button', { type: 'submit' }, 'Sign in'))
  form.addEventListener('submit', async event => {
    event.preventDefault()
    token.set(input.value.trim())
    try {
      projects = await readProjects()
    } catch (err) {
      token.clear()
      error.textContent = err instanceof ApiError && err.status === 401 ? 'That token was refused' : `Could not sign in: ${messageOf(err)}`
      return
    }
    start()
  })
  fill(main, form)
  input.focus()
}

function signOut () {
  token.clear()
  projects = []
  window.history.replaceState(null, '', '#/')
  showSignIn()
}

onRefused(() => {
  token.clear()
  showSignIn('That token was refused')
})
signOutButton.addEventListener('click', signOut)

/** Signed in: the header, the event stream, the page of the current hash. */
function start () {
  nav.hidden = false
  live.hidden = false
  signOutButton.hidden = false
  session = new AbortController()
  subscribe(session.signal)
  route()
}

/**
 * GET /events for as long as the session lasts, again after a pause when it drops or falls silent; every
 * `ready` (the first one too) reads the page again: what changed before the stream was there is not lost.
 * @param {AbortSignal} signal
 */
async function subscribe (signal) {
  let again = false
  while (!signal.aborted) {
    setLive('connecting', again ? 'Reconnecting…' : 'Connecting…')
    again = true
    const connection = new AbortController()
    const stop = () => connection.abort()
    signal.addEventListener('abort', stop, { once: true })
    // A half-open connection brings nothing, not even the heartbeat: abort it and connect again.
    let silent = false
    let watchdog = setTimeout(() => { silent = true; stop() }, SILENCE_MS)
    const heard = () => {
      clearTimeout(watchdog)
      watchdog = setTimeout(() => { silent = true; stop() }, SILENCE_MS)
    }
    try {
      await events(connection.signal, (event, data) => {
        try {
          if (event === 'ready') {
            setLive('live', 'Live')
            route()
          } else if (event === 'build') {
            onBuild(/** @type {BuildRecord} */ (JSON.parse(data)))
          }
        } catch (err) {
          console.error(`The ${event} event could not be shown:`, err) // the stream goes on
        }
      }, heard)
    } catch { /* dropped, refused or aborted */ }
    clearTimeout(watchdog)
    signal.removeEventListener('abort', stop)
    if (signal.aborted) return
    if (silent) continue // straight back: the stream fell silent, the service may well be there
    setLive('offline', 'Offline: reconnecting')
    await new Promise(resolve => setTimeout(resolve, 3000))
  }
}

/** @param {string} state @param {string} text */
function setLive (state, text) {
  live.className = `live live-${state}`
  live.textContent = text
}

// ---- Routing ----------------------------------------------------------------------------------------------

function route () {
  if (token.get() === null) return showSignIn()
  page.abort()
  page = new AbortController()
  onBuild = () => {}
  const [path = '', query = ''] = window.location.hash.replace(/^#/, '').split('?')
  const params = new URLSearchParams(query)
  const build = /^\/builds\/(\d+)$/.exec(path)
  for (const link of nav.querySelectorAll('a')) {
    const here = link.getAttribute('href') === (build !== null ? '#/builds' : `#${path === '' ? '/' : path}`)
    if (here) link.setAttribute('aria-current', 'page')
    else link.removeAttribute('aria-current')
  }
  const shown = path === '' || path === '/'
    ? projectsPage(page.signal)
    : path === '/builds' ? buildsPage(params, page.signal) : build !== null ? buildPage(Number(build[1]), page.signal) : notFound()
  shown.catch(err => {
    if (page.signal.aborted || (err instanceof ApiError && err.status === 401)) return
    fill(main, h('p', { class: 'error', role: 'alert' }, `Could not load this page: ${messageOf(err)}`))
  })
}

async function notFound () {
  fill(main, h('h1', null, 'Not found'), h('p', null, h('a', { href: '#/' }, 'Back to the projects')))
}

/** @param {unknown} err */
const messageOf = err => err instanceof Error ? err.message : String(err)

/** A line under a button saying what became of its request. @returns {HTMLParagraphElement} */
const outcomeLine = () => h('p', { class: 'outcome', role: 'status' })

/**
 * Runs `action` for a button: disabled meanwhile; its message, or the API's error, in `line`.
 * @param {HTMLButtonElement} button @param {HTMLElement} line @param {() => Promise<Node | string>} action
 */
async function act (button, line, action) {
  button.disabled = true
  line.className = 'outcome'
  line.textContent = ''
  try {
    line.append(await action())
  } catch (err) {
    line.className = 'outcome error'
    line.textContent = messageOf(err)
  } finally {
    button.disabled = false
  }
}

const buildLink = (/** @type {number} */ id) => h('a', { href: `#/builds/${id}` }, `#${id}`)

// ---- Projects ---------------------------------------------------------------------------------------------

/** @param {AbortSignal} signal */
async function projectsPage (signal) {
  projects = await readProjects(signal)
  const list = h('div', { class: 'cards' })
  /** Each project's card, kept across renders (its button and outcome line too): only its details are redrawn. @type {Map<string, { card: HTMLElement, body: HTMLElement }>} */
  const cards = new Map()
  const render = () => {
    const shown = projects.map(project => {
      let card = cards.get(project.slug)
      if (card === undefined) {
        card = projectCard(project)
        cards.set(project.slug, card)
      }
      fill(card.body, projectDetails(project))
      return card.card
    })
    const same = shown.length === list.children.length && shown.every((card, i) => list.children[i] === card)
    if (!same || shown.length === 0) fill(list, shown.length === 0 ? h('p', null, 'No projects are configured.') : shown)
  }
  render()
  fill(main, h('h1', null, 'Projects'), list)
  // A finished build may have changed what is deployed: the projects are read again, one read at a time,
  // and once more when asked again during a read.
  let reading = false
  let dirty = false
  const reread = () => {
    if (reading) {
      dirty = true
      return
    }
    reading = true
    dirty = false
    readProjects(signal).then(answer => { projects = answer; render() }).catch(() => {}).finally(() => {
      reading = false
      if (dirty && !signal.aborted) reread()
    })
  }
  onBuild = build => {
    const project = projects.find(p => p.slug === build.project)
    if (project === undefined) return
    if (project.lastBuild === null || build.id >= project.lastBuild.id) {
      project.lastBuild = { id: build.id, status: build.status, commit: build.commit ?? build.trigger.commit, createdAt: build.createdAt, finishedAt: build.finishedAt }
    }
    render()
    if (FINAL.has(build.status)) reread()
  }
}

/** A project's card: its details go in `body`. @param {Project} project */
function projectCard (project) {
  const line = outcomeLine()
  const button = h('button', { type: 'button' }, 'Build now')
  button.addEventListener('click', () => act(button, line, async () => {
    const answer = /** @type {{ id: number, duplicate?: boolean }} */ (await api(project.slug, { method: 'POST' }))
    return h('span', null, answer.duplicate === true ? 'Already queued or running: build ' : 'Queued: build ', buildLink(answer.id))
  }))
  const body = h('div')
  const card = h('section', { class: 'card project', 'aria-labelledby': `project-${project.slug}` },
    h('h2', { id: `project-${project.slug}` }, project.name, ' ', h('span', { class: 'muted slug' }, project.slug)),
    body,
    h('div', { class: 'actions' }, button, h('a', { href: `#/builds?project=${encodeURIComponent(project.slug)}` }, 'Its builds')),
    line)
  return { card, body }
}

/** @param {Project} project */
function projectDetails (project) {
  const last = project.lastBuild
  const deployed = project.deployed
  return details([
    ['Branch', h('code', null, project.branch)],
    ['Images', h('ul', { class: 'plain' }, project.images.map(image => h('li', null, h('code', null, image.image))))],
    ['Last build', last === null
      ? 'none yet'
      : [badge(last.status), ' ', buildLink(last.id), ' ', h('code', null, short(last.commit)), ' ', time(last.createdAt)]],
    ['Deployed', deployed === null
      ? (project.deployments === null ? 'no deployments' : 'nothing yet')
      : h('div', null,
        badge(deployed.status), ' build ', buildLink(deployed.build), ' ', h('code', null, short(deployed.commit)), ' ', deployed.strategy, ' ', time(deployed.at),
        deployed.rollbackOf === null ? null : h('span', null, ' (rollback to ', buildLink(deployed.rollbackOf), ')'),
        h('ul', { class: 'plain digests' }, Object.entries(deployed.digests).map(([image, digest]) => h('li', null, h('code', null, image), ' ', h('code', { title: digest }, shortDigest(digest))))))]
  ])
}

// ---- Builds -----------------------------------------------------------------------------------------------

/** @param {URLSearchParams} params @param {AbortSignal} signal */
async function buildsPage (params, signal) {
  const project = params.get('project') ?? ''
  const status = params.get('status') ?? ''
  if (projects.length === 0) projects = await readProjects(signal)
  const query = () => {
    const q = new URLSearchParams({ limit: String(PAGE_SIZE) })
    if (project !== '') q.set('project', project)
    if (status !== '') q.set('status', status)
    return q
  }
  const first = /** @type {{ builds: BuildRecord[], next: number | null }} */ (await api(`builds?${query()}`, { signal }))

  const projectSelect = h('select', { id: 'filter-project', name: 'project' },
    h('option', { value: '' }, 'All projects'),
    projects.map(p => h('option', { value: p.slug, selected: p.slug === project }, p.name)))
  const statusSelect = h('select', { id: 'filter-status', name: 'status' },
    h('option', { value: '' }, 'Any status'),
    STATUSES.map(s => h('option', { value: s, selected: s === status }, s)))
  const filters = h('form', { class: 'filters', role: 'search' },
    h('label', { for: 'filter-project' }, 'Project'), projectSelect,
    h('label', { for: 'filter-status' }, 'Status'), statusSelect)
  filters.addEventListener('change', () => {
    const q = new URLSearchParams()
    if (projectSelect.value !== '') q.set('project', projectSelect.value)
    if (statusSelect.value !== '') q.set('status', statusSelect.value)
    window.location.hash = `#/builds${q.size > 0 ? `?${q}` : ''}`
  })

  const body = h('tbody')
  /** @type {Map<number, HTMLTableRowElement>} */
  const rows = new Map()
  /** @param {BuildRecord} build */
  const add = (build, where = 'end') => {
    const row = buildRow(build)
    rows.set(build.id, row)
    if (where === 'start') body.prepend(row)
    else body.append(row)
  }
  first.builds.forEach(build => add(build))
  const empty = h('p', { class: 'muted' }, first.builds.length === 0 ? 'No builds.' : null)

  let next = first.next
  const more = h('button', { type: 'button', class: 'secondary', hidden: next === null }, 'Older builds')
  const line = outcomeLine()
  more.addEventListener('click', () => act(more, line, async () => {
    const page = /** @type {{ builds: BuildRecord[], next: number | null }} */ (await api(`builds?${query()}&before=${next}`, { signal }))
    page.builds.filter(build => !rows.has(build.id)).forEach(build => add(build))
    next = page.next
    more.hidden = next === null
    return ''
  }))

  fill(main, h('h1', null, 'Builds'), filters,
    h('div', { class: 'table-wrap' }, h('table', { class: 'builds' },
      h('caption', { class: 'visually-hidden' }, 'Builds, newest first'),
      h('thead', null, h('tr', null, ['Build', 'Project', 'Status', 'Commit', 'Trigger', 'Created', 'Duration'].map(title => h('th', { scope: 'col' }, title)))),
      body)),
    empty, more, line)

  onBuild = build => {
    const row = rows.get(build.id)
    if (row !== undefined) {
      const fresh = buildRow(build)
      row.replaceWith(fresh)
      rows.set(build.id, fresh)
      return
    }
    // A new build that the filters let through goes on top.
    const newest = Math.max(0, ...rows.keys())
    if (build.id > newest && (project === '' || build.project === project) && (status === '' || build.status === status)) {
      add(build, 'start')
      empty.textContent = ''
    }
  }
}

/** @param {BuildRecord} build */
function buildRow (build) {
  const took = build.startedAt !== null && build.finishedAt !== null ? Date.parse(build.finishedAt) - Date.parse(build.startedAt) : null
  return h('tr', { 'data-build': build.id },
    h('td', null, buildLink(build.id)),
    h('td', null, build.project),
    h('td', null, badge(build.status)),
    h('td', null, h('code', null, short(build.commit ?? build.trigger.commit))),
    h('td', null, `${build.trigger.source} ${build.trigger.event}`),
    h('td', null, time(build.createdAt)),
    h('td', null, duration(took)))
}

// ---- One build --------------------------------------------------------------------------------------------

/** @param {number} id @param {AbortSignal} signal */
async function buildPage (id, signal) {
  let build = /** @type {BuildRecord} */ (await api(`builds/${id}`, { signal }))
  if (projects.length === 0) projects = await readProjects(signal)
  const info = h('div')
  const line = outcomeLine()
  const log = h('pre', { class: 'log', tabindex: '0', 'aria-label': 'Build log' })
  const logState = h('p', { class: 'muted', role: 'status' }, 'Reading the log…')
  const render = () => fill(info, buildActions(build, line), line, buildDetails(build))
  render()
  fill(main, h('h1', null, `Build #${build.id} `, h('span', { class: 'muted' }, build.project)), info,
    h('section', { class: 'log-section', 'aria-labelledby': 'log-title' }, h('h2', { id: 'log-title' }, 'Log'), log, logState))
  onBuild = changed => {
    if (changed.id !== id) return
    build = changed
    render()
  }
  // The stream's own lines (why a queued build waits, that it started, that it ended before it started) go
  // to the status line, not into the log: the stored log never has them. Whole lines only, so none is split.
  let partial = ''
  /** @type {string | null} */
  let endedBeforeStart = null
  /** @param {string} text */
  const append = text => {
    const atEnd = log.scrollTop + log.clientHeight >= log.scrollHeight - 8
    log.append(text)
    if (atEnd) log.scrollTop = log.scrollHeight
  }
  stream(`builds/${id}/logs?follow=true`, signal, text => {
    const lines = (partial + text).split('\n')
    partial = lines.pop() ?? ''
    let kept = ''
    for (const entry of lines) {
      const own = followLine(entry)
      if (own === null) kept += `${entry}\n`
      else if (own.kind === 'ended') endedBeforeStart = own.text
      else logState.textContent = own.text
    }
    if (kept !== '') append(kept)
  }).then(() => {
    if (partial !== '') append(partial)
    logState.textContent = endedBeforeStart ?? (log.textContent === '' ? 'No log (the build never ran).' : 'End of the log.')
  }, err => {
    if (!signal.aborted) logState.textContent = `The log could not be read: ${messageOf(err)}`
  })
}

/**
 * A line that the log stream adds while following (never in the stored log), as the status line says it;
 * null for a line of the log.
 * @param {string} line @returns {{ kind: 'status' | 'ended', text: string } | null}
 */
function followLine (line) {
  const queued = /^\[build-hook\] build \d+ is queued: (waiting for .*)$/.exec(line)
  if (queued !== null) return { kind: 'status', text: `Queued: ${queued[1]}` }
  const still = /^\[build-hook\] still waiting: (.*)$/.exec(line)
  if (still !== null) return { kind: 'status', text: `Queued, still waiting: ${still[1]}` }
  const started = /^\[build-hook\] build \d+ started \(attempt (\d+)\)$/.exec(line)
  if (started !== null) return { kind: 'status', text: `Started (attempt ${started[1]}): following the log…` }
  const ended = /^\[build-hook\] build \d+ ((?:was \w+|\w+)(?: by build \d+)? before (?:it|attempt \d+) started.*)$/.exec(line)
  if (ended !== null) return { kind: 'ended', text: `The build ${ended[1]}.` }
  return null
}

/** The buttons that apply to the build now. @param {BuildRecord} build @param {HTMLElement} line */
function buildActions (build, line) {
  /** @type {HTMLButtonElement[]} */
  const buttons = []
  /** @param {string} label @param {() => Promise<Node | string>} action @param {string} [kind] */
  const button = (label, action, kind = '') => {
    const element = h('button', { type: 'button', class: kind }, label)
    element.addEventListener('click', () => act(element, line, action))
    buttons.push(element)
  }
  if (build.status === 'queued' || build.status === 'running') {
    button('Cancel', async () => {
      const answer = /** @type {{ status: string }} */ (await api(`builds/${build.id}/cancel`, { method: 'POST' }))
      return answer.status === 'cancelled' ? 'Cancelled.' : 'Cancelling: it stops shortly.'
    }, 'danger')
  }
  if (FINAL.has(build.status) && build.trigger.source !== 'rollback') {
    button('Rebuild', async () => {
      const answer = /** @type {{ id: number, duplicate?: boolean }} */ (await api(build.project, { method: 'POST', json: { commit: build.commit ?? build.trigger.commit } }))
      return h('span', null, answer.duplicate === true ? 'Already queued or running: build ' : 'Queued: build ', buildLink(answer.id))
    })
  }
  const project = projects.find(p => p.slug === build.project)
  const rollbackable = build.status === 'succeeded' && build.images.length > 0 && build.images.every(image => image.digest !== null)
  if (rollbackable && project?.deployments !== null && project?.deployments !== undefined) {
    button('Roll back to this build', async () => {
      const answer = /** @type {BuildRecord} */ (await api(`projects/${build.project}/rollback`, { method: 'POST', json: { build: build.id } }))
      return h('span', null, 'Rollback queued: build ', buildLink(answer.id))
    }, 'secondary')
  }
  return h('div', { class: 'actions' }, buttons)
}

/** @param {BuildRecord} build */
function buildDetails (build) {
  const { trigger, deploy } = build
  const commit = build.commit ?? trigger.commit
  return h('div', { class: 'sections' },
    h('section', { class: 'card' }, h('h2', null, 'Build'), details([
      ['Status', badge(build.status)],
      ['Commit', h('code', { title: commit }, short(commit))],
      ['Triggered for', build.commit !== null && build.commit !== trigger.commit ? h('code', { title: trigger.commit }, short(trigger.commit)) : null],
      ['Commit note', build.commitReason],
      ['Created', time(build.createdAt)],
      ['Started', time(build.startedAt)],
      ['Finished', time(build.finishedAt)],
      ['Attempt', String(build.attempt)],
      ['Superseded by', build.supersededBy === null ? null : buildLink(build.supersededBy)],
      ['Rollback of', build.rollbackOf === null ? null : buildLink(build.rollbackOf)],
      ['Error', build.error === null ? null : h('span', { class: 'error' }, build.error)],
      ['Retried', build.retry === null ? null : `attempt ${build.retry.attempt} ended (${build.retry.reason}): ${build.retry.error}`]
    ])),
    h('section', { class: 'card' }, h('h2', null, 'Trigger'), details([
      ['Source', trigger.source],
      ['Event', trigger.event],
      ['Ref', h('code', null, trigger.ref)],
      ['Sender', trigger.sender],
      ['Delivery', trigger.delivery === null ? null : h('code', null, trigger.delivery)]
    ])),
    h('section', { class: 'card' }, h('h2', null, 'Images'),
      build.images.map(image => h('div', { class: 'image' },
        h('h3', null, h('code', null, image.image)),
        details([
          ['Status', badge(image.status)],
          ['Tags', image.tags.length === 0 ? null : image.tags.join(', ')],
          ['Digest', image.digest === null ? null : h('code', { title: image.digest }, shortDigest(image.digest))],
          ['Duration', duration(image.durationMs)],
          ['Reason', image.reason],
          ['Error', image.error === null ? null : h('span', { class: 'error' }, image.error)]
        ])))),
    h('section', { class: 'card' }, h('h2', null, 'Deploy'), details([
      ['Status', badge(deploy.status)],
      ['Namespace', deploy.namespace],
      ['Resources', deploy.resources.length === 0 ? null : deploy.resources.join(', ')],
      ['Strategy', deploy.strategy],
      ['Reason', deploy.reason],
      ['Error', deploy.error === null ? null : h('span', { class: 'error' }, deploy.error)],
      ['Deployed', time(deploy.deployedAt)]
    ])),
    build.reports.length === 0
      ? null
      : h('section', { class: 'card' }, h('h2', null, 'Reports'), h('div', { class: 'table-wrap' }, h('table', null,
        h('thead', null, h('tr', null, ['Target', 'Event', 'State', 'Status', 'Error'].map(title => h('th', { scope: 'col' }, title)))),
        h('tbody', null, build.reports.map(report => h('tr', null,
          h('td', null, report.target), h('td', null, report.event), h('td', null, report.state ?? '—'),
          h('td', null, badge(report.status)), h('td', null, report.error ?? '')))))))
  )
}

// ---- Start ------------------------------------------------------------------------------------------------

window.addEventListener('hashchange', () => { if (token.get() !== null) route() })
setInterval(refreshTimes, 30_000)
if (token.get() === null) showSignIn()
else start()
