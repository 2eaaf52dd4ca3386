import type { DeploymentSettings, ProjectSettings } from '../config/index.js'
import { commitTag } from '../buildx/build-argv.js'
import type { NewBuild } from '../store/build-store.js'
import { builtCommit, type BuildRecord, type Trigger } from '../schemas/build.js'

// The builds a trigger or a rollback records: what they will push and deploy.

/** A build of `trigger.commit`: every image of the project, tagged with its tag and the commit's sha- tag. */
export function newBuild (project: ProjectSettings, trigger: Trigger): NewBuild {
  return {
    project: project.slug,
    trigger,
    images: project.images.map(image => ({ image: image.name, tags: [image.tag, commitTag(trigger.commit)] })),
    deploy: initialDeploy(project.deployments)
  }
}

function initialDeploy (deployments: DeploymentSettings | null): NewBuild['deploy'] {
  return deployments === null
    ? { status: 'skipped', namespace: null, resources: [] }
    : { status: 'pending', namespace: deployments.namespace, resources: deployments.resources.map(r => `${r.kind}/${r.name}`) }
}

/**
 * The build that deploys `target`'s images again (docs/contract.md "Rollback"): nothing is rebuilt. Its images carry the
 * digests `target` pushed; with the restart strategy (or no deployments) each image's configured tag is
 * pointed back at its digest before the restart, so its tags are that one tag; with digest the workloads are
 * pinned to the digests and no tag moves. Refused when `target` did not push every image (there is nothing
 * whole to go back to), or pushed an image the project no longer builds (nothing in the config says where
 * it goes): `refused` says why (the API answers 409 with it).
 */
export function rollbackBuild (project: ProjectSettings, target: BuildRecord): { build: NewBuild } | { refused: string } {
  const missing = target.images.filter(image => image.digest === null || image.status !== 'succeeded')
  if (target.images.length === 0 || missing.length > 0) {
    return { refused: `Build ${target.id} has no pushed digest for ${missing.map(image => image.image).join(', ')}: only a build that pushed all its images can be rolled back to` }
  }
  const configured = new Map(project.images.map(image => [image.name, image]))
  const unknown = target.images.filter(image => !configured.has(image.image))
  if (unknown.length > 0) {
    return { refused: `Build ${target.id} pushed ${unknown.map(image => image.image).join(', ')}, which ${unknown.length > 1 ? 'are' : 'is'} no longer one of the images of project ${project.slug}` }
  }
  const retags = project.deployments?.strategy !== 'digest'
  const build: NewBuild = {
    project: project.slug,
    trigger: { source: 'rollback', event: 'rollback', delivery: null, ref: target.trigger.ref, commit: builtCommit(target), sender: null },
    images: target.images.map(image => ({ image: image.image, tags: retags ? [configured.get(image.image)!.tag] : [], digest: image.digest! })),
    deploy: initialDeploy(project.deployments),
    rollbackOf: target.id
  }
  return { build }
}
