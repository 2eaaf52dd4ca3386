import swaggerUi from '@fastify/swagger-ui'
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'

// Public: they describe the API, never its data. Hidden from the document they serve.
const openapi: FastifyPluginAsyncTypebox = async (fastify) => {
  fastify.get('/openapi.json', { config: { auth: 'none' }, schema: { hide: true } }, async () => fastify.swagger())

  // swagger-ui declares its routes (the page, its assets from the package, /docs/json) with no way to give them
  // a config: this context's default says they are open.
  fastify.decorate('defaultAuth', 'none')
  await fastify.register(swaggerUi, { routePrefix: '/docs', theme: { title: 'build-hook API' } })
}

export default openapi
