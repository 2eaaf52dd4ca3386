import Type from 'typebox'
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'

const Component = Type.Object({
  ready: Type.Boolean(),
  reason: Type.Optional(Type.String()),
  detail: Type.Optional(Type.Record(Type.String(), Type.Unknown()))
})

// One key per component (config, builder, store, ...) beside the status.
const ReadyResponse = Type.Object({
  status: Type.Literal('ready')
}, { additionalProperties: Component })

const NotReadyResponse = Type.Object({
  status: Type.Union([Type.Literal('unavailable'), Type.Literal('shutting_down')]),
  reason: Type.String()
}, { additionalProperties: Component })

// Probes hit these every few seconds: log them only when something goes wrong.
const probe = { config: { auth: 'none' as const }, logLevel: 'warn' as const }
const tags = ['health']

const health: FastifyPluginAsyncTypebox = async (fastify) => {
  fastify.get('/health', {
    ...probe,
    schema: { tags, summary: 'Liveness: 200 while the process is alive', response: { 200: Type.Object({ status: Type.Literal('ok') }) } }
  }, async () => ({ status: 'ok' as const }))

  fastify.get('/ready', {
    ...probe,
    schema: { tags, summary: 'Readiness: 200 when the service can take work, 503 with the reason otherwise', response: { 200: ReadyResponse, 503: NotReadyResponse } }
  }, async (_request, reply) => {
    const report = fastify.readiness.report()
    if (report.ready) return { ...report.components, status: report.status }
    return reply.code(503).send({ ...report.components, status: report.status, reason: report.reason })
  })
}

export default health
