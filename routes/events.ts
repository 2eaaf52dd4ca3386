import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { ErrorResponse } from '../lib/api/error-schema.js'
import { streamSubscriber } from '../lib/builds/build-events.js'

/** A client that has this much unread is closed: it reconnects, rather than the service holding its events. */
const MAX_BACKLOG_BYTES = 1024 * 1024

/** The record is serialised once per change (lib/builds/build-events.ts): sent as it is. */
const asIs = (data: unknown): string => data as string

const events: FastifyPluginAsyncTypebox = async function events (fastify) {
  fastify.get('/events', {
    config: { auth: 'bearer' },
    sse: { kind: 'only', serializer: asIs },
    schema: {
      tags: ['builds'],
      summary: 'Every change of every build, as Server-Sent Events',
      description: 'Server-Sent Events: `event: build` with the whole build record (as GET /builds/:id) on every change of a build; a `ready` event once subscribed, and a comment line as heartbeat.',
      response: { 200: { content: { 'text/event-stream': { schema: { type: 'string' } } } }, 401: ErrorResponse, 406: ErrorResponse }
    }
  }, async (_request, reply) => {
    const sse = reply.sse
    sse.keepAlive()
    const raw = reply.raw
    const unsubscribe = fastify.buildEvents.subscribe(streamSubscriber({
      get isConnected () { return sse.isConnected },
      get backlogged () { return raw.writableLength > MAX_BACKLOG_BYTES },
      send: message => sse.send(message),
      close: () => sse.close()
    }))
    sse.onClose(unsubscribe)
    await sse.send({ event: 'ready', data: '{}' })
  })
}

export default events
