import type { Readable } from 'node:stream'
import Type from 'typebox'
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { ErrorResponse, HttpError } from '../lib/api/error-schema.js'
import { BuildIdSchema, BuildRecordSchema, BuildStatusSchema } from '../lib/schemas/build.js'
import { Nullable } from '../lib/schemas/common.js'

const BuildParams = Type.Object({ id: BuildIdSchema })

const ListQuery = Type.Object({
  project: Type.Optional(Type.String({ pattern: '^[a-z0-9][a-z0-9-]*$', maxLength: 63 })),
  status: Type.Optional(BuildStatusSchema),
  limit: Type.Integer({ minimum: 1, maximum: 200, default: 50 }),
  /** A build id: the page of builds older than it (the previous answer's `next`). */
  before: Type.Optional(BuildIdSchema)
}, { additionalProperties: false })

const BuildList = Type.Object({
  builds: Type.Array(BuildRecordSchema),
  next: Nullable(Type.Integer())
})

const LogQuery = Type.Object({ follow: Type.Boolean({ default: false }) }, { additionalProperties: false })

const CancelAccepted = Type.Object({
  id: Type.Integer(),
  /** cancelled: it was queued; cancelling: it is being interrupted and is recorded cancelled when it stops. */
  status: Type.Union([Type.Literal('cancelled'), Type.Literal('cancelling')])
})

// text/plain, sent as it is (a string, or a stream of the file): never through the JSON serializer.
const LogText = Type.Unsafe<string | Readable>({ type: 'string', description: 'the build log, text/plain; charset=utf-8' })

const errors = { 400: ErrorResponse, 401: ErrorResponse, 404: ErrorResponse }
const tags = ['builds']

const builds: FastifyPluginAsyncTypebox = async (fastify) => {
  const { store } = fastify
  const found = (id: number) => {
    const build = store.get(id)
    if (build === null) throw new HttpError(404, `No build ${id}`)
    return build
  }

  fastify.get('/builds', {
    config: { auth: 'bearer' },
    schema: { tags, summary: 'Builds, newest first, a page at a time', querystring: ListQuery, response: { 200: BuildList, ...errors } }
  }, async (request) => store.list(request.query))

  fastify.get('/builds/:id', {
    config: { auth: 'bearer' },
    schema: { tags, summary: "A build's record", params: BuildParams, response: { 200: BuildRecordSchema, ...errors } }
  }, async (request) => found(request.params.id))

  fastify.get('/builds/:id/logs', {
    config: { auth: 'bearer' },
    schema: { tags, summary: "A build's log, or its stream until the build ends (follow=true)", params: BuildParams, querystring: LogQuery, response: { 200: { content: { 'text/plain; charset=utf-8': { schema: LogText } } }, ...errors } }
  }, async (request, reply) => {
    const { id } = request.params
    found(id)
    reply.type('text/plain; charset=utf-8')
    return reply.send(request.query.follow ? fastify.builds.followLog(id) : await fastify.builds.readLog(id))
  })

  fastify.post('/builds/:id/cancel', {
    config: { auth: 'bearer' },
    schema: { tags, summary: 'Cancels a queued or running build', params: BuildParams, response: { 202: CancelAccepted, ...errors, 409: ErrorResponse } }
  }, async (request, reply) => {
    const { id } = request.params
    const result = fastify.builds.cancel(id)
    if (result.outcome === 'not-found') throw new HttpError(404, `No build ${id}`)
    if (result.outcome === 'finished') throw new HttpError(409, `Build ${id} has already finished (${result.build.status})`)
    request.log.info({ buildId: id, outcome: result.outcome }, 'Build cancelled.')
    return reply.code(202).send({ id, status: result.outcome })
  })
}

export default builds
