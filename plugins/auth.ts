import fp from 'fastify-plugin'
import bearerAuth from '@fastify/bearer-auth'
import type { FastifyReply, onRequestHookHandler, preValidationHookHandler } from 'fastify'
import { BuildHookError } from '../lib/errors.js'
import { bearerRefusal, generateToken } from '../lib/bearer-tokens.js'
import { HttpError } from '../lib/api/error-schema.js'
import { unsupportedMediaType } from '../lib/webhooks/body.js'
import { detectHost, missingEventHeader } from '../lib/webhooks/hosts.js'

/**
 * How a route authenticates its callers. Every route must say so: one without it fails at boot.
 * - bearer: `Authorization: Bearer <token>`.
 * - webhook: a bearer token, or the Git host's signature (or token) made with the project's webhook
 *   secret; the route has a `:slug` parameter and a body parser that keeps the raw bytes.
 * - none: open (probes, metrics).
 */
export type RouteAuth = 'bearer' | 'webhook' | 'none'

declare module 'fastify' {
  interface FastifyContextConfig {
    auth?: RouteAuth
  }
  interface FastifyInstance {
    /**
     * The auth of the routes declared in this context, and in the plugins it registers, that declare none
     * themselves: for a plugin whose routes are not ours to write (the docs page). Set it with `decorate` in
     * the one context that needs it, never on the root.
     */
    defaultAuth?: RouteAuth
  }
  interface FastifyRequest {
    /** Who the request was authenticated as: a bearer token, or a Git host's verified signature. */
    authenticatedBy: 'bearer' | 'webhook' | null
  }
}

export interface AuthPluginOptions {
  /** Shows a generated development token to the person who started the server (stderr by default). */
  announceToken?: (token: string) => void
}

const REALM = 'Bearer realm="build-hook"'
// Signatures of requests for unknown slugs are checked against this, so that timing does not tell
// an unauthenticated caller which slugs exist.
const NO_SECRET = { secret: generateToken(), allowSha1: false }
const NO_BODY = Buffer.alloc(0)

function unauthorized (reply: FastifyReply, message: string, header: string): Error {
  reply.header('www-authenticate', header)
  return Object.assign(new Error(message), { statusCode: 401 })
}

export default fp<AuthPluginOptions>(async function authPlugin (fastify, options) {
  const { tokens: keys, generated } = fastify.secrets.bearer
  if (generated !== null) {
    fastify.log.warn('BEARER_TOKENS is empty: generated a token for this run, shown once on stderr.')
    ;(options.announceToken ?? announceOnStderr)(generated)
  }

  // addHook: false: no global hook; routes opt in below. rfc6749: the scheme name is case-insensitive.
  await fastify.register(bearerAuth, { keys: [...keys], addHook: false, specCompliance: 'rfc6749', verifyErrorLogLevel: 'info' })
  const verify = fastify.verifyBearerAuth!

  const requireBearer: onRequestHookHandler = function (request, reply, done) {
    verify(request, reply, (err) => {
      if (err === undefined) {
        request.authenticatedBy = 'bearer'
        return done()
      }
      // bearer-auth says "invalid authorization header" for a wrong token and a wrong form alike: name which.
      const missing = (request.headers.authorization ?? '') === ''
      done(unauthorized(reply, bearerRefusal(request.headers.authorization), missing ? REALM : `${REALM}, error="invalid_token"`))
    })
  }

  // A bearer token, or a Git host's event header, whose signature is checked once the body is read.
  // Anything else is refused before a byte of the body is read.
  const bearerOrWebhook: onRequestHookHandler = function (request, reply, done) {
    if (detectHost(request.headers) === undefined) {
      // A host's signature without its event header: say so, rather than ask for a token it never meant to send.
      const problem = (request.headers.authorization ?? '') === '' ? missingEventHeader(request.headers) : undefined
      if (problem === undefined) return requireBearer.call(this, request, reply, done)
      request.log.info('Webhook signature without an event header refused.')
      return done(unauthorized(reply, problem, REALM))
    }
    if (request.headers.authorization === undefined) return done() // the usual delivery: signature only
    verify(request, reply, (err) => {
      if (err === undefined) request.authenticatedBy = 'bearer'
      done()
    })
  }

  const requireSignature: preValidationHookHandler = function (request, reply, done) {
    if (request.authenticatedBy === 'bearer') return done()
    const host = detectHost(request.headers)!
    // The hook route keeps bodies as raw bytes; a body some parser turned into anything else is no body a
    // signature covers: refused for its type, before any signature is looked at (which the answer says nothing of).
    const raw = request.body === undefined ? NO_BODY : Buffer.isBuffer(request.body) ? request.body : null
    if (raw === null) return done(new HttpError(415, unsupportedMediaType(request.headers['content-type'])))
    const { slug } = request.params as { slug: string }
    const known = fastify.secrets.webhook.get(slug)
    const { secret, allowSha1 } = known ?? NO_SECRET
    if (!host.verify(request.headers, raw, secret, { allowSha1 }) || known === undefined) {
      request.log.info({ source: host.source }, 'Webhook signature refused.')
      return done(unauthorized(reply, 'invalid webhook signature', REALM))
    }
    request.authenticatedBy = 'webhook'
    done()
  }

  fastify.decorateRequest('authenticatedBy', null)
  fastify.addHook('onRoute', function (route) {
    const auth = route.config?.auth ?? this.defaultAuth
    if (auth !== 'none' && auth !== 'bearer' && auth !== 'webhook') {
      throw new BuildHookError('BH_ROUTE_AUTH_MISSING', `Route ${String(route.method)} ${route.url} declares no auth: set config.auth to 'bearer', 'webhook' or 'none'`)
    }
    // A route given its context's default says so to whoever reads its config later (the OpenAPI document).
    route.config = { ...route.config, auth }
    if (auth === 'none') return
    const own = route.onRequest === undefined ? [] : [route.onRequest].flat()
    route.onRequest = [auth === 'bearer' ? requireBearer : bearerOrWebhook, ...own]
    if (auth === 'webhook') {
      const ownValidation = route.preValidation === undefined ? [] : [route.preValidation].flat()
      route.preValidation = [requireSignature, ...ownValidation]
    }
  })
}, { name: 'auth', dependencies: ['config'] })

function announceOnStderr (token: string): void {
  process.stderr.write(
    `\nNo BEARER_TOKENS set: generated a token for this run (set BEARER_TOKENS to choose your own):\n\n  ${token}\n\n` +
    `  curl -X POST -H "Authorization: Bearer ${token}" http://localhost:3000/<slug>\n\n`
  )
}
