import Type from 'typebox'
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { ErrorResponse, HttpError } from '../lib/api/error-schema.js'

const BuildParams = Type.Object({ id: Type.Integer({ minimum: 1 }) })

const CancelAccepted = Type.Object({
  id: Type.Integer(),
  /** cancelled: it was queued; cancelling: it is being interrupted and is recorded cancelled when it stops. */
  status: Type.Union([Type.Literal('cancelled'), Type.Literal('cancelling')])
})

const builds: FastifyPluginAsyncTypebox = async (fastify) => {
  fastify.post('/builds/:id/cancel', {
    config: { auth: 'bearer' },
    schema: { params: BuildParams, response: { 202: CancelAccepted, 400: ErrorResponse, 401: ErrorResponse, 404: ErrorResponse, 409: ErrorResponse } }
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
