import Type from 'typebox'
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { ErrorResponse } from '../lib/api/error-schema.js'
import { builtCommit, BuildStatusSchema } from '../lib/builds/record.js'

const Nullable = <T extends Type.TSchema>(schema: T) => Type.Union([schema, Type.Null()])

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
  deployments: Nullable(Type.Object({ namespace: Type.String(), resources: Type.Array(Type.String()) })),
  lastBuild: Nullable(Type.Object({
    id: Type.Integer(),
    status: BuildStatusSchema,
    commit: Type.String(),
    createdAt: Type.String(),
    finishedAt: Nullable(Type.String())
  }))
})

const projects: FastifyPluginAsyncTypebox = async (fastify) => {
  fastify.get('/projects', {
    config: { auth: 'bearer' },
    schema: { response: { 200: Type.Object({ projects: Type.Array(Project) }), 401: ErrorResponse } }
  }, async () => {
    const latest = fastify.store.latest()
    return {
      projects: fastify.settings.projects.map(project => {
        const last = latest.get(project.slug)
        return {
          slug: project.slug,
          name: project.name,
          repository: project.code.url,
          branch: project.code.branch,
          images: project.images.map(image => ({ image: `${image.name}:${image.tag}`, dockerfile: image.location, context: image.context })),
          deployments: project.deployments === null ? null : { namespace: project.deployments.namespace, resources: project.deployments.resources.map(r => `${r.kind}/${r.name}`) },
          lastBuild: last === undefined ? null : { id: last.id, status: last.status, commit: builtCommit(last), createdAt: last.createdAt, finishedAt: last.finishedAt }
        }
      })
    }
  })
}

export default projects
