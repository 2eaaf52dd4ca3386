import path from 'node:path'
import { fileURLToPath } from 'node:url'
import fastifyStatic from '@fastify/static'
import type { FastifyPluginAsync } from 'fastify'

/**
 * The dashboard's folder, <package>/ui, from the URL of this module: it runs as <package>/routes/ui.ts from
 * the sources (tests, tsx) and as <package>/dist/routes/ui.js once built.
 */
export function uiRoot (moduleUrl: string): string {
  return path.join(path.dirname(path.dirname(fileURLToPath(moduleUrl))).replace(/[/\\]dist$/, ''), 'ui')
}

/** Sent with every dashboard file: no inline script or style, nothing from elsewhere, never in a frame. */
export const UI_HEADERS = Object.freeze({
  'content-security-policy': "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'",
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  // The file names carry no version: a browser asks again each time and gets a 304 while nothing changed.
  'cache-control': 'no-cache'
})

/** The kinds of file the dashboard is made of; anything else in ui/ is a 404. */
const SERVED = /\.(html|js|css|png|svg|ico)$/

export interface UiPluginOptions {
  /** Where the dashboard's files are (tests only); <package>/ui by default. */
  root?: string
}

/**
 * The dashboard (GET /ui/): static files only, open to anyone (auth none) since every piece of data behind
 * it is read from the API with the bearer token. Encapsulated: its headers and reply.sendFile stay here.
 */
const ui: FastifyPluginAsync<UiPluginOptions> = async (fastify, options) => {
  const root = options.root ?? uiRoot(import.meta.url)
  // serve: false: @fastify/static's own routes cannot declare config.auth; these routes below do.
  // dotfiles: 'ignore': a file or folder whose name starts with a dot is a 404 (@fastify/static serves them by default).
  await fastify.register(fastifyStatic, { root, serve: false, index: false, dotfiles: 'ignore' })
  fastify.addHook('onSend', async (_request, reply, payload) => {
    reply.headers(UI_HEADERS)
    return payload
  })

  const config = { auth: 'none' as const }
  // Files, not API: kept out of the OpenAPI description.
  const schema = { hide: true }
  // Relative URLs in index.html (app.js, style.css, ../projects) need the trailing slash. The redirect is
  // relative (/ui -> ui/, so a path prefix in front of the service is kept) and temporary (not cached for good).
  fastify.get('/ui', { config, schema }, async (_request, reply) => reply.redirect('ui/', 302))
  fastify.get<{ Params: { '*': string } }>('/ui/*', { config, schema }, async (request, reply) => {
    const file = request.params['*'] === '' ? 'index.html' : request.params['*']
    // The dashboard's files only: not ui/tsconfig.json or anything else that lies in the folder.
    if (!SERVED.test(file)) return reply.callNotFound()
    // @fastify/send refuses paths out of root (403) and dot files (404), and answers ETag / If-None-Match.
    return reply.sendFile(file, { cacheControl: false })
  })
}

export default ui
