import fp from 'fastify-plugin'
import swagger from '@fastify/swagger'
import { openapiInfo, SECURITY_BY_AUTH, SECURITY_SCHEMES, TAGS } from '../lib/api/openapi.js'
import { packageVersion } from '../lib/package-version.js'

// The OpenAPI 3 description of the routes, from their own schemas: registered before them, since it
// collects routes as they are declared. Served by routes/openapi.ts.
export default fp(async function openapiPlugin (fastify) {
  await fastify.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: openapiInfo(packageVersion(import.meta.url)),
      tags: TAGS,
      components: { securitySchemes: SECURITY_SCHEMES }
    },
    // Each route's security is what its config.auth makes the auth plugin enforce, never a second statement.
    transform: ({ schema, url, route }) => ({ schema: { ...schema, security: SECURITY_BY_AUTH.get(route.config?.auth) }, url })
  })
}, { name: 'openapi' })
