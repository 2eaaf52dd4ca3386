import Type from 'typebox'
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'

// Sent as the registry writes it: never through the JSON serializer.
const PrometheusText = Type.String({ description: 'Prometheus text exposition format' })

const metrics: FastifyPluginAsyncTypebox = async (fastify) => {
  // Scraped every few seconds: logged only when something goes wrong.
  fastify.get('/metrics', {
    config: { auth: 'none' },
    logLevel: 'warn',
    schema: { tags: ['metrics'], summary: 'Prometheus metrics, in its text format', response: { 200: { content: { 'text/plain': { schema: PrometheusText } } } } }
  }, async (_request, reply) => {
    return reply.type(fastify.metrics.registry.contentType).send(await fastify.metrics.text())
  })
}

export default metrics
