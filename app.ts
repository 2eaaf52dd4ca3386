import type { Writable } from 'node:stream'
import Fastify, { LogController, type FastifyInstance, type FastifyServerOptions } from 'fastify'
import { stdSerializers } from 'pino'
import fp from 'fastify-plugin'
import { AjvCompiler } from '@fastify/ajv-compiler'
import { SerializerSelector } from '@fastify/fast-json-stringify-compiler'
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import config from './plugins/config.js'
import errors from './plugins/errors.js'
import requestLog from './plugins/request-log.js'
import readiness from './plugins/readiness.js'
import git from './plugins/git.js'
import auth from './plugins/auth.js'
import store from './plugins/store.js'
import kube, { type KubePluginOptions } from './plugins/kube.js'
import buildx, { type BuildxPluginOptions } from './plugins/buildx.js'
import builds, { type BuildsPluginOptions } from './plugins/builds.js'
import reports, { type ReportsPluginOptions } from './plugins/reports.js'
import metrics from './plugins/metrics.js'
import events, { type EventsPluginOptions } from './plugins/events.js'
import openapi from './plugins/openapi.js'
import health from './routes/health.js'
import hook from './routes/hook.js'
import buildRoutes from './routes/builds.js'
import projectRoutes from './routes/projects.js'
import metricsRoutes from './routes/metrics.js'
import eventRoutes from './routes/events.js'
import openapiRoutes from './routes/openapi.js'
import uiRoutes from './routes/ui.js'
import { validationMessage } from './lib/api/validation-message.js'
import { serializersCompiledOnFirstUse, validatorsCompiledOnFirstUse } from './lib/api/compile-on-first-use.js'
import { isLogLevel } from './lib/env.js'
import { censorChildBindings, censorSecrets, censorSerialized, serializeRequest } from './lib/log-redaction.js'
import { LogLineRedactor } from './lib/secrets/log-line-redactor.js'

export interface AppOptions {
  /** Environment variables to read: process.env in the server, a plain object in tests. */
  env: Record<string, string | undefined>
  /** Where log lines go (stdout by default). */
  logStream?: Writable
  /** Shows a generated development token (stderr by default). */
  announceToken?: (token: string) => void
  /** Builder retry timings (tests shorten them). */
  buildx?: BuildxPluginOptions
  /** Shutdown grace for running builds, and kill timings (tests shorten them). */
  builds?: BuildsPluginOptions
  /** How often rollouts are looked at (tests shorten it). */
  kube?: KubePluginOptions
  /** Commit status and notification retry timings (tests shorten them). */
  reports?: ReportsPluginOptions
  /** The event stream's heartbeat (tests shorten it). */
  events?: EventsPluginOptions
  /** Set by buildApp: removes every configured secret from each log line the logger writes. */
  logLineRedactor?: LogLineRedactor
}

export const BODY_LIMIT = 25 * 1024 * 1024 // GitHub's largest webhook payload

/** The composition root: infrastructure plugins in start-up order, then the routes. Not encapsulated, so
 * the server entry sees what the plugins decorate (env, settings, readiness). */
export const app = fp<AppOptions>(async function app (fastify, options) {
  await fastify.register(config, { env: options.env, onRedactor: redactor => options.logLineRedactor?.use(redactor) })
  await fastify.register(errors)
  await fastify.register(requestLog)
  await fastify.register(readiness)
  await fastify.register(git)
  await fastify.register(auth, { announceToken: options.announceToken })
  await fastify.register(store)
  await fastify.register(kube, options.kube ?? {})
  await fastify.register(buildx, options.buildx ?? {})
  await fastify.register(reports, options.reports ?? {})
  await fastify.register(builds, options.builds ?? {})
  await fastify.register(metrics)
  await fastify.register(events, options.events ?? {})
  await fastify.register(openapi)
  await fastify.register(health)
  await fastify.register(buildRoutes)
  await fastify.register(projectRoutes)
  await fastify.register(metricsRoutes)
  await fastify.register(eventRoutes)
  await fastify.register(hook)
  await fastify.register(openapiRoutes)
  // The dashboard: static files after the API (it only reads the API, with the user's token).
  await fastify.register(uiRoutes)
}, { name: 'app' })

export function serverOptions (options: AppOptions, logLineRedactor: LogLineRedactor): FastifyServerOptions {
  const level = isLogLevel(options.env.LOG_LEVEL) ? options.env.LOG_LEVEL : 'info'
  return {
    logger: {
      level,
      // Known secret fields and headers by name, then every known secret value in whatever a line holds.
      formatters: { log: censorSecrets },
      hooks: { streamWrite: logLineRedactor.redact },
      serializers: {
        req: censorSerialized(serializeRequest),
        res: censorSerialized((reply: { statusCode: number }) => ({ statusCode: reply.statusCode })),
        err: censorSerialized(stdSerializers.err)
      },
      ...(options.logStream === undefined ? {} : { stream: options.logStream })
    },
    bodyLimit: BODY_LIMIT,
    // plugins/request-log.ts logs one line per request instead of Fastify's two.
    logController: new LogController({ disableRequestLogging: true }),
    // Unknown body fields are errors, not silently dropped; query strings still need coercion. verbose: the
    // errors carry their schema, so that a 400 can say what is accepted.
    ajv: { customOptions: { removeAdditional: false, coerceTypes: 'array', allErrors: false, verbose: true } },
    // Fastify's own compilers, each route's function compiled when first used instead of at start-up.
    schemaController: {
      compilersFactory: {
        buildValidator: validatorsCompiledOnFirstUse(AjvCompiler()),
        buildSerializer: serializersCompiledOnFirstUse(SerializerSelector())
      }
    },
    schemaErrorFormatter: (errors, part) => {
      // Fastify hands these errors on as err.validation: with verbose, each holds the value received, which
      // could be anything the caller sent. Dropped, so that no later log line of the error can carry it.
      for (const error of errors) delete (error as { data?: unknown }).data
      return new Error(validationMessage(errors, part))
    },
    // /ready answers its own 503 while closing, and /health stays truthful on open connections.
    return503OnClosing: false,
    requestTimeout: 30_000
  }
}

/** The composed service, not yet listening: used by the server entry and by tests. */
export function buildApp (options: AppOptions): FastifyInstance {
  const logLineRedactor = new LogLineRedactor(options.env)
  const fastify = Fastify(serverOptions(options, logLineRedactor)).withTypeProvider<TypeBoxTypeProvider>()
  // Bindings (a request's reqId, a build's id and project) are written without formatters.log: censored on the way in.
  censorChildBindings(fastify.log)
  fastify.register(app, { ...options, logLineRedactor })
  return fastify
}
