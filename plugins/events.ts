import fp from 'fastify-plugin'
import { fastifySSE } from '@fastify/sse'
import { BuildEvents } from '../lib/builds/build-events.js'
import type { SentEvent } from '../lib/reports/report-sender.js'

declare module 'fastify' {
  interface FastifyInstance {
    /** Build changes for GET /events. */
    buildEvents: BuildEvents
  }
}

export interface EventsPluginOptions {
  /** How often an idle stream gets a comment line, so that proxies keep it open (default 15 s). */
  heartbeatMs?: number
}

// Server-Sent Events of build changes (@fastify/sse speaks the protocol: framing, heartbeats, Accept).
export default fp<EventsPluginOptions>(async function eventsPlugin (fastify, options) {
  await fastify.register(fastifySSE, { heartbeatInterval: options.heartbeatMs ?? 15_000 })
  const events = new BuildEvents(fastify.store)
  fastify.decorate('buildEvents', events)
  // A report's outcome is part of its build's record (`reports`).
  const onSent = (event: SentEvent): void => events.changed(event.buildId)
  fastify.reports.on('sent', onSent)
  // Open streams would hold the server's close back: they end first.
  fastify.addHook('preClose', async () => {
    fastify.reports.off('sent', onSent)
    events.shutDown()
  })
}, { name: 'events', dependencies: ['store', 'reports'] })
