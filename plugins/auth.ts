import fp from 'fastify-plugin'
import bearerAuth from '@fastify/bearer-auth'
import type { onRequestHookHandler } from 'fastify'
import { BuildHookError } from '../lib/errors.js'
import { generateToken, parseBearerTokens } from '../lib/bearer-tokens.js'

/** How a route authenticates its callers. Every route must say so: one without it fails at boot. */
export type RouteAuth = 'bearer' | 'none'

declare module 'fastify' {
  interface FastifyContextConfig {
    auth?: RouteAuth
  }
}

export interface AuthPluginOptions {
  /** Shows a generated development token to the person who started the server (stderr by default). */
  announceToken?: (token: string) => void
}

const REALM = 'Bearer realm="build-hook"'

export default fp<AuthPluginOptions>(async function authPlugin (fastify, options) {
  let keys = parseBearerTokens(fastify.env.BEARER_TOKENS)
  if (keys.length === 0) {
    if (fastify.env.NODE_ENV === 'production') {
      throw new BuildHookError('BH_NO_TOKENS', 'BEARER_TOKENS is empty: set at least one token (comma separated) when NODE_ENV=production')
    }
    const token = generateToken()
    keys = [token]
    fastify.log.warn('BEARER_TOKENS is empty: generated a token for this run, shown once on stderr.')
    ;(options.announceToken ?? announceOnStderr)(token)
  }

  // addHook: false: no global hook; routes opt in below. rfc6749: the scheme name is case-insensitive.
  await fastify.register(bearerAuth, { keys, addHook: false, specCompliance: 'rfc6749', verifyErrorLogLevel: 'info' })
  const verify = fastify.verifyBearerAuth!

  const requireBearer: onRequestHookHandler = function (request, reply, done) {
    verify(request, reply, (err) => {
      if (err !== undefined) {
        const missing = (err as { code?: string }).code === 'FST_BEARER_AUTH_MISSING_AUTHORIZATION_HEADER'
        reply.header('www-authenticate', missing ? REALM : `${REALM}, error="invalid_token"`)
      }
      done(err)
    })
  }

  fastify.addHook('onRoute', (route) => {
    const auth = route.config?.auth
    if (auth === 'none') return
    if (auth !== 'bearer') {
      throw new BuildHookError('BH_ROUTE_AUTH_MISSING', `Route ${String(route.method)} ${route.url} declares no auth: set config.auth to 'bearer' or 'none'`)
    }
    const own = route.onRequest === undefined ? [] : [route.onRequest].flat()
    route.onRequest = [requireBearer, ...own]
  })
}, { name: 'auth', dependencies: ['config'] })

function announceOnStderr (token: string): void {
  process.stderr.write(
    `\nNo BEARER_TOKENS set: generated a token for this run (set BEARER_TOKENS to choose your own):\n\n  ${token}\n\n` +
    `  curl -X POST -H "Authorization: Bearer ${token}" http://localhost:3000/<slug>\n\n`
  )
}
