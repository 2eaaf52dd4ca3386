import Type from 'typebox'
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { ErrorResponse, HttpError } from '../lib/api/error-schema.js'
import { Nullable } from '../lib/schemas/common.js'
import { BuildIdSchema, BuildRecordSchema, builtCommit, BuildStatusSchema, DeployedSchema, DeployStrategySchema } from '../lib/schemas/build.js'

const Project = Type.Object({
  slug: Type.String(),
  name: Type.String(),
  repository: Type.String(),
  branch: Type.String(),
  images: Type.Array(Type.Object({
    /** The full reference the build pushes: <registry>/<repository>:<tag> (and :sha-<commit>). */
    image: Type.String(),
    dockerfile: Type.String(),
    context: Type.String()
  })),
  deployments: Nullable(Type.Object({ namespace: Type.String(), resources: Type.Array(Type.String()), strategy: DeployStrategySchema })),
  /** What the project's workloads were last set to run; null before its first deploy. */
  deployed: Nullable(DeployedSchema),
  lastBuild: Nullable(Type.Object({
    id: Type.Integer(),
    status: BuildStatusSchema,
    commit: Type.String(),
    createdAt: Type.String(),
    finishedAt: Nullable(Type.String())
  }))
})

const SlugParams = Type.Object({ slug: Type.String() })
const tags = ['projects']

const RollbackBody = Type.Object({
  /** The build whose images to deploy again; without it, the one deployed before the current one. */
  build: Type.Optional(BuildIdSchema)
}, { additionalProperties: false })

const projects: FastifyPluginAsyncTypebox = async (fastify) => {
  const bySlug = new Map(fastify.settings.projects.map(project => [project.slug, project]))
  // `curl -H 'content-type: application/json' -X POST .../rollback` sends no body: that is the empty request,
  // not malformed JSON (in this plugin's routes only).
  const json = fastify.getDefaultJsonParser('error', 'error')
  fastify.removeContentTypeParser('application/json')
  fastify.addContentTypeParser('application/json', { parseAs: 'string' }, (request, body, done) => {
    if (body === '') return done(null, undefined)
    json(request, body as string, done)
  })

  fastify.get('/projects', {
    config: { auth: 'bearer' },
    schema: { tags, summary: 'The configured projects, what they run and their last build', response: { 200: Type.Object({ projects: Type.Array(Project) }), 401: ErrorResponse } }
  }, async () => {
    const latest = fastify.store.latest()
    const deployed = fastify.store.deploys.all()
    return {
      projects: fastify.settings.projects.map(project => {
        const last = latest.get(project.slug)
        return {
          slug: project.slug,
          name: project.name,
          repository: project.code.url,
          branch: project.code.branch,
          images: project.images.map(image => ({ image: `${image.name}:${image.tag}`, dockerfile: image.location, context: image.context })),
          deployments: project.deployments === null
            ? null
            : { namespace: project.deployments.namespace, resources: project.deployments.resources.map(r => `${r.kind}/${r.name}`), strategy: project.deployments.strategy },
          deployed: deployed.get(project.slug) ?? null,
          lastBuild: last === undefined ? null : { id: last.id, status: last.status, commit: builtCommit(last), createdAt: last.createdAt, finishedAt: last.finishedAt }
        }
      })
    }
  })

  // A rollback deploys an earlier build's images again, without building: 202 with the new build's record.
  fastify.post('/projects/:slug/rollback', {
    config: { auth: 'bearer' },
    // No body (or an empty one, or {}) means the build deployed before the current one.
    preValidation: async (request) => { request.body ??= {} },
    schema: { tags, summary: "Deploys an earlier build's images again, without building", params: SlugParams, body: RollbackBody, response: { 202: BuildRecordSchema, 400: ErrorResponse, 401: ErrorResponse, 404: ErrorResponse, 409: ErrorResponse } }
  }, async (request, reply) => {
    const project = bySlug.get(request.params.slug)
    if (project === undefined) throw new HttpError(404, `No project '${request.params.slug}'`)
    const result = await fastify.builds.rollback(project, request.body.build)
    if (result.outcome === 'not-found') throw new HttpError(404, result.message)
    if (result.outcome === 'refused') throw new HttpError(409, result.message)
    const { build, superseded } = result.recorded
    request.log.info({ buildId: build.id, project: project.slug, rollbackOf: build.rollbackOf, superseded }, 'Rollback queued.')
    return reply.code(202).send(build)
  })
}

export default projects
