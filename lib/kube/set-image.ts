import type { ResourceRef } from '../config/rules.js'
import { imageRepository, parseImageReference } from './image-reference.js'
import { describe } from './restart.js'

// What `kubectl set image` sends to pin a workload's containers to the digests just pushed
// (docs/kube-facts.md): a strategic-merge patch of the pod template's container lists, keyed by
// container name. The API server ADDS a container whose name it does not know, so only names read
// from the object itself are ever patched.

/** kubectl's field manager for `set image`: the same owner of the image fields as a manual `kubectl set image`. */
export const SET_IMAGE_FIELD_MANAGER = 'kubectl-set'

export interface BuiltImage {
  /** `<registry>/<repository>`, as the project's config names it. */
  repository: string
  /** The digest the registry returned for the push, `sha256:…`. */
  digest: string
}

interface Container { name?: string, image?: string }

/** The part of a deployment, statefulset or daemonset that set-image reads. */
export interface PodTemplateObject {
  spec?: { template?: { spec?: { containers?: readonly Container[], initContainers?: readonly Container[] } } }
}

interface NamedImage { image: string, name: string }

/**
 * The patch exactly as kubectl marshals it (Go sorts map keys): `$setElementOrder/<list>` names every
 * container of a list that has a change, in the template's order; the list holds only the changed ones.
 */
export interface SetImagePatch {
  spec: {
    template: {
      spec: {
        '$setElementOrder/containers'?: Array<{ name: string }>
        '$setElementOrder/initContainers'?: Array<{ name: string }>
        containers?: NamedImage[]
        initContainers?: NamedImage[]
      }
    }
  }
}

export interface ImageChange {
  container: string
  init: boolean
  from: string
  to: string
}

export type SetImageResult =
  | { error: string }
  /** `patch` is null when every container of a built image already runs its digest: kubectl sends nothing then. */
  | { error: null, patch: SetImagePatch | null, changes: ImageChange[], unchanged: ImageChange[] }

/** Sets every container and init container that runs one of `images` (any tag or digest) to `<repository>@<digest>`. */
export function setImage (object: PodTemplateObject, resource: ResourceRef, images: readonly BuiltImage[]): SetImageResult {
  const targets = new Map<string, string>()
  for (const image of images) {
    const target = `${image.repository}@${image.digest}`
    const parsed = parseImageReference(target)
    // The config and the push produce these: a malformed one is a bug here, not in the cluster.
    if (parsed === null || parsed.tag !== null || parsed.digest === null) return { error: `'${target}' is not a repository pinned to a digest` }
    targets.set(parsed.repository, target)
  }
  const podSpec = object.spec?.template?.spec ?? {}
  const lists = [
    { key: 'containers', init: false, containers: named(podSpec.containers) },
    { key: 'initContainers', init: true, containers: named(podSpec.initContainers) }
  ] as const
  const matched: ImageChange[] = []
  const patchSpec: SetImagePatch['spec']['template']['spec'] = {}
  const changedLists: Array<Pick<typeof lists[number], 'key' | 'containers'> & { changed: NamedImage[] }> = []
  for (const list of lists) {
    const changed: NamedImage[] = []
    for (const container of list.containers) {
      const to = targets.get(imageRepository(container.image) ?? '')
      if (to === undefined) continue
      const change = { container: container.name, init: list.init, from: container.image, to }
      matched.push(change)
      if (change.from !== to) changed.push({ image: to, name: container.name })
    }
    if (changed.length > 0) changedLists.push({ key: list.key, containers: list.containers, changed })
  }
  if (matched.length === 0) return { error: noMatch(resource, lists, images) }
  // Keys in the order Go's json.Marshal writes a map: sorted, so every directive comes before the lists.
  for (const list of changedLists) patchSpec[`$setElementOrder/${list.key}`] = list.containers.map(container => ({ name: container.name }))
  for (const list of changedLists) patchSpec[list.key] = list.changed
  return {
    error: null,
    patch: changedLists.length === 0 ? null : { spec: { template: { spec: patchSpec } } },
    changes: matched.filter(change => change.from !== change.to),
    unchanged: matched.filter(change => change.from === change.to)
  }
}

/** The build log's line for a resource: what changed (and from what), or that it already runs the digests. */
export function setImageLine (resource: ResourceRef, result: { changes: readonly ImageChange[], unchanged: readonly ImageChange[] }): string {
  const current = (change: ImageChange) => describeContainer(change.container, change.init, change.to)
  if (result.changes.length === 0) return `${describe(resource)} already runs ${result.unchanged.map(current).join(', ')}`
  return `${describe(resource)}: ${[
    ...result.changes.map(change => `${current(change)} (was ${change.from})`),
    ...result.unchanged.map(change => `${current(change)} (unchanged)`)
  ].join(', ')}`
}

function describeContainer (name: string, init: boolean, image: string): string {
  return `${init ? 'init container ' : ''}${name}=${image === '' ? '(no image)' : image}`
}

// A container without a name cannot be patched by name (the API server would not accept one anyway).
function named (containers: readonly Container[] | undefined): NamedImage[] {
  return (containers ?? []).flatMap(container => typeof container.name === 'string' ? [{ image: container.image ?? '', name: container.name }] : [])
}

function noMatch (resource: ResourceRef, lists: ReadonlyArray<{ init: boolean, containers: readonly NamedImage[] }>, images: readonly BuiltImage[]): string {
  const containers = lists.flatMap(list => list.containers.map(container => describeContainer(container.name, list.init, container.image)))
  const built = images.length === 0 ? 'none' : images.map(image => image.repository).join(', ')
  return `${describe(resource)} has no container running an image built here (${built}): it runs ${containers.length === 0 ? 'no containers' : containers.join(', ')}`
}
