import Type from 'typebox'
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { ErrorResponse, HttpError } from '../lib/api/error-schema.js'
import { BuildHookError } from '../lib/errors.js'

const Params = Type.Object({ slug: Type.String() })

// A plain API call: no body, or the commit to build.
const TriggerBody = Type.Object({
  commit: Type.Optional(Type.String({ pattern: '^[0-9a-fA-F]{40}$' }))
}, { additionalProperties: false })

const Accepted = Type.Object({
  id: Type.Integer(),
  project: Type.String(),
  status: Type.Literal('queued'),
  commit: Type.String(),
  ref: Type.String(),
  /** Where the build's record is: GET <url>. */
  url: Type.String()
})

const hook: FastifyPluginAsyncTypebox = async (fastify) => {
  const projects = new Map(fastify.settings.projects.map(project => [project.slug, project]))

  fastify.post('/:slug', {
    config: { auth: 'bearer' },
    schema: {
      params: Params,
      body: Type.Union([TriggerBody, Type.Null()]),
      response: { 202: Accepted, 400: ErrorResponse, 401: ErrorResponse, 404: ErrorResponse, 502: ErrorResponse }
    }
  }, async (request, reply) => {
    const project = projects.get(request.params.slug)
    if (project === undefined) throw new HttpError(404, `No project '${request.params.slug}'`)
    try {
      const build = await fastify.builds.trigger(project, { commit: request.body?.commit })
      request.log.info({ buildId: build.id, project: project.slug, commit: build.trigger.commit }, 'Build queued.')
      return reply.code(202).send({ id: build.id, project: build.project, status: 'queued', commit: build.trigger.commit, ref: build.trigger.ref, url: `/builds/${build.id}` })
    } catch (err) {
      // The branch head could not be resolved: the repository's answer, not ours.
      if (err instanceof BuildHookError && err.code.startsWith('BH_GIT_')) throw new HttpError(502, err.message)
      throw err
    }
  })
}

export default hook
