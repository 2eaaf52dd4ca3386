import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'

const metrics: FastifyPluginAsyncTypebox = async (fastify) => {
  // Scraped every few seconds: logged only when something goes wrong.
  fastify.get('/metrics', { config: { auth: 'none' }, logLevel: 'warn' }, async (_request, reply) => {
    return reply.type(fastify.metrics.registry.contentType).send(await fastify.metrics.text())
  })
}

export default metrics
