import { STATUS_CODES } from 'node:http'
import fp from 'fastify-plugin'
import type { FastifyError } from 'fastify'
import { HttpError } from '../lib/api/error-schema.js'

// Every error leaves as JSON {statusCode, error, message}; an unexpected 5xx never tells the caller its
// internals (an HttpError's message is written for the caller).
export default fp(async function errorsPlugin (fastify) {
  fastify.setErrorHandler((err: FastifyError, request, reply) => {
    const statusCode = err.statusCode !== undefined && err.statusCode >= 400 && err.statusCode < 600 ? err.statusCode : 500
    const internal = statusCode >= 500 && !(err instanceof HttpError)
    if (internal) request.log.error({ err }, 'Request failed.')
    const message = internal ? 'Internal Server Error' : err.message
    return reply.code(statusCode).send({ statusCode, error: STATUS_CODES[statusCode], message })
  })

  fastify.setNotFoundHandler((request, reply) => {
    const path = request.url.split('?')[0]
    return reply.code(404).send({ statusCode: 404, error: 'Not Found', message: `Route ${request.method} ${path} not found` })
  })
}, { name: 'errors' })
