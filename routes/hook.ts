import Type from 'typebox'
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { ErrorResponse, HttpError } from '../lib/api/error-schema.js'
import { BuildHookError } from '../lib/errors.js'
import { BuildStatusSchema } from '../lib/builds/record.js'

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

// The delivery was seen before, or the commit is already queued or building: no second build.
const Duplicate = Type.Object({
  id: Type.Integer(),
  project: Type.String(),
  status: BuildStatusSchema,
  commit: Type.String(),
  ref: Type.String(),
  url: Type.String(),
  duplicate: Type.Literal(true)
})

const hook: FastifyPluginAsyncTypebox = async (fastify) => {
  const projects = new Map(fastify.settings.projects.map(project => [project.slug, project]))

  fastify.post('/:slug', {
    config: { auth: 'bearer' },
    schema: {
      params: Params,
      body: Type.Union([TriggerBody, Type.Null()]),
      response: { 200: Duplicate, 202: Accepted, 400: ErrorResponse, 401: ErrorResponse, 404: ErrorResponse, 502: ErrorResponse }
    }
  }, async (request, reply) => {
    const project = projects.get(request.params.slug)
    if (project === undefined) throw new HttpError(404, `No project '${request.params.slug}'`)
    try {
      const { build, duplicate, superseded } = await fastify.builds.trigger(project, { commit: request.body?.commit })
      const answer = { id: build.id, project: build.project, commit: build.trigger.commit, ref: build.trigger.ref, url: `/builds/${build.id}` }
      if (duplicate) {
        request.log.info({ buildId: build.id, project: project.slug }, 'Already building this commit.')
        return reply.code(200).send({ ...answer, status: build.status, duplicate: true as const })
      }
      request.log.info({ buildId: build.id, project: project.slug, commit: build.trigger.commit, superseded }, 'Build queued.')
      return reply.code(202).send({ ...answer, status: 'queued' as const })
    } catch (err) {
      // The branch head could not be resolved: the repository's answer, not ours.
      if (err instanceof BuildHookError && err.code.startsWith('BH_GIT_')) throw new HttpError(502, err.message)
      throw err
    }
  })
}

export default hook
