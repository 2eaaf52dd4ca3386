import Type from 'typebox'
import { errorCodes } from 'fastify'
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { ErrorResponse, HttpError } from '../lib/api/error-schema.js'
import { BuildStatusSchema } from '../lib/schemas/build.js'
import { interpretTrigger } from '../lib/webhooks/trigger-request.js'
import { detectHost } from '../lib/webhooks/hosts.js'
import { TRIGGER_MEDIA_TYPES, UnsupportedCharsetError, unsupportedMediaType } from '../lib/webhooks/body.js'
import { WebhookPayloadError } from '../lib/webhooks/types.js'
import type { DeliveryOutcome } from '../lib/metrics/build-metrics.js'

const Params = Type.Object({ slug: Type.String() })

const Accepted = Type.Object({
  id: Type.Integer(),
  project: Type.String(),
  status: Type.Literal('queued'),
  commit: Type.String(),
  ref: Type.String(),
  /** Where the build's record is: GET <url>. */
  url: Type.String()
})

// 200 answers: the delivery was seen before or the commit is already queued or building (no second
// build); the event is not a push of the project's branch; or a ping.
const Duplicate = Type.Object({
  id: Type.Integer(),
  project: Type.String(),
  status: BuildStatusSchema,
  commit: Type.String(),
  ref: Type.String(),
  url: Type.String(),
  duplicate: Type.Literal(true)
})
const Ignored = Type.Object({ status: Type.Literal('ignored'), reason: Type.String() })
const Pong = Type.Object({ status: Type.Literal('pong') })

declare module 'fastify' {
  interface FastifyRequest {
    /** What POST /<slug> made of the request, for the deliveries metric. */
    triggerOutcome: DeliveryOutcome | null
  }
}

/** A body that is not what its sender sends is a 400; one in a charset Node cannot decode, a 415. */
function decided<T> (interpret: () => T): T {
  try {
    return interpret()
  } catch (err) {
    if (err instanceof UnsupportedCharsetError) throw new HttpError(415, err.message)
    // The parsers throw only these two: anything else is a bug, answered 500 and logged.
    /* c8 ignore next */
    throw err instanceof WebhookPayloadError ? new HttpError(400, err.message) : err
  }
}

/** The outcome of a request the handler did not answer itself (auth, parsing, errors). */
function outcomeOf (statusCode: number): DeliveryOutcome {
  if (statusCode === 401) return 'unauthorized'
  return statusCode < 500 ? 'invalid' : 'error'
}

const hook: FastifyPluginAsyncTypebox = async (fastify) => {
  const projects = new Map(fastify.settings.projects.map(project => [project.slug, project]))

  fastify.decorateRequest('triggerOutcome', null)
  fastify.addHook('onResponse', async (request, reply) => {
    fastify.metrics.delivery(detectHost(request.headers)?.source ?? 'api', request.triggerOutcome ?? outcomeOf(reply.statusCode))
  })

  // Signatures are over the exact bytes sent: no parser of Fastify's may turn the body into anything else.
  // JSON and form bodies are kept as bytes and decoded only once the sender is verified (a malformed body
  // with a bad signature is a 401, not a 400); any other body, or one with no type, is a 415 unread.
  // Limited by the server's bodyLimit.
  fastify.removeAllContentTypeParsers()
  fastify.addContentTypeParser([...TRIGGER_MEDIA_TYPES], { parseAs: 'buffer' }, (_request, body, done) => done(null, body))
  fastify.addContentTypeParser('*', (request, _payload, done) => done(new HttpError(415, unsupportedMediaType(request.headers['content-type']))))
  // A Content-Type Fastify cannot even read (e.g. `foo`) it refuses itself: the same answer as any other type.
  fastify.setErrorHandler((err, request) => {
    throw err instanceof errorCodes.FST_ERR_CTP_INVALID_MEDIA_TYPE ? new HttpError(415, unsupportedMediaType(request.headers['content-type'])) : err
  })

  fastify.post('/:slug', {
    config: { auth: 'webhook' },
    schema: {
      tags: ['hook'],
      summary: "Builds the project: a Git host's push delivery, or an API call with an optional {\"commit\"}",
      params: Params,
      response: { 200: Type.Union([Duplicate, Ignored, Pong]), 202: Accepted, 400: ErrorResponse, 401: ErrorResponse, 404: ErrorResponse, 413: ErrorResponse, 415: ErrorResponse, 500: ErrorResponse, 502: ErrorResponse }
    }
  }, async (request, reply) => {
    const project = projects.get(request.params.slug)
    if (project === undefined) throw new HttpError(404, `No project '${request.params.slug}'`)
    const decision = decided(() => interpretTrigger(request.headers, request.body as Buffer | undefined, project, fastify.secrets.redactor))
    if (decision.action === 'pong') {
      request.triggerOutcome = 'pong'
      return reply.code(200).send({ status: 'pong' as const })
    }
    if (decision.action === 'ignored') {
      request.triggerOutcome = 'ignored'
      request.log.info({ project: project.slug, reason: decision.reason }, 'Trigger ignored.')
      return reply.code(200).send({ status: 'ignored' as const, reason: decision.reason })
    }
    const result = await fastify.builds.trigger(project, decision.trigger)
    if (result.outcome === 'head-unknown') throw result.missingGit ? new HttpError(500, `cannot resolve the branch head: ${result.message}`) : new HttpError(502, result.message)
    const { build, duplicate, superseded } = result
    const answer = { id: build.id, project: build.project, commit: build.trigger.commit, ref: build.trigger.ref, url: `/builds/${build.id}` }
    request.triggerOutcome = duplicate ? 'duplicate' : 'accepted'
    if (duplicate) {
      request.log.info({ buildId: build.id, project: project.slug }, 'Already recorded: no second build.')
      return reply.code(200).send({ ...answer, status: build.status, duplicate: true as const })
    }
    request.log.info({ buildId: build.id, project: project.slug, commit: build.trigger.commit, source: build.trigger.source, superseded }, 'Build queued.')
    return reply.code(202).send({ ...answer, status: 'queued' as const })
  })
}

export default hook
