import { STATUS_CODES } from 'node:http'
import fp from 'fastify-plugin'
import type { FastifyError } from 'fastify'

// Every error leaves as JSON {statusCode, error, message}; a 5xx never tells the caller its internals.
export default fp(async function errorsPlugin (fastify) {
  fastify.setErrorHandler((err: FastifyError, request, reply) => {
    const statusCode = err.statusCode !== undefined && err.statusCode >= 400 && err.statusCode < 600 ? err.statusCode : 500
    if (statusCode >= 500) request.log.error({ err }, 'Request failed.')
    const message = statusCode >= 500 ? 'Internal Server Error' : err.message
    return reply.code(statusCode).send({ statusCode, error: STATUS_CODES[statusCode], message })
  })

  fastify.setNotFoundHandler((request, reply) => {
    const path = request.url.split('?')[0]
    return reply.code(404).send({ statusCode: 404, error: 'Not Found', message: `Route ${request.method} ${path} not found` })
  })
}, { name: 'errors' })
