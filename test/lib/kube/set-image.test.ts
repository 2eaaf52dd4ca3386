import t from 'tap'
import type { ResourceRef } from '../../../lib/config/rules.js'
import { type BuiltImage, type PodTemplateObject, setImage, setImageLine } from '../../../lib/kube/set-image.js'

const A = `sha256:${'a'.repeat(64)}`
const B = `sha256:${'b'.repeat(64)}`
const WEB: ResourceRef = { kind: 'deployment', name: 'web' }
const BUILT: BuiltImage[] = [{ repository: 'registry.test/demo/web', digest: A }]

type Container = { name: string, image: string }
function workload (containers: Container[], initContainers?: Container[]): PodTemplateObject {
  return { spec: { template: { spec: initContainers === undefined ? { containers } : { containers, initContainers } } } }
}

/** The patch as the client sends it: JSON.stringify keeps the key order, which must be Go's. */
function patchText (object: PodTemplateObject, images = BUILT, resource = WEB): string {
  const result = setImage(object, resource, images)
  if (result.error !== null) throw new Error(result.error)
  return JSON.stringify(result.patch)
}

t.test("one container: kubectl set image's patch, byte for byte", async t => {
  const result = setImage(workload([{ name: 'web', image: 'registry.test/demo/web:release' }]), WEB, BUILT)
  t.same(result, {
    error: null,
    patch: { spec: { template: { spec: { '$setElementOrder/containers': [{ name: 'web' }], containers: [{ image: `registry.test/demo/web@${A}`, name: 'web' }] } } } },
    changes: [{ container: 'web', init: false, from: 'registry.test/demo/web:release', to: `registry.test/demo/web@${A}` }],
    unchanged: []
  })
  t.equal(JSON.stringify(result.error === null && result.patch), `{"spec":{"template":{"spec":{"$setElementOrder/containers":[{"name":"web"}],"containers":[{"image":"registry.test/demo/web@${A}","name":"web"}]}}}}`)
})

t.test('several containers: every one is in the order directive, only the matching ones in the list', async t => {
  const object = workload([
    { name: 'proxy', image: 'envoyproxy/envoy:v1.31' },
    { name: 'web', image: 'registry.test/demo/web:latest' },
    { name: 'log', image: 'fluent/fluent-bit:3' },
    { name: 'worker', image: 'registry.test/demo/worker:latest' }
  ])
  const images = [...BUILT, { repository: 'registry.test/demo/worker', digest: B }]
  t.equal(patchText(object, images), '{"spec":{"template":{"spec":{"$setElementOrder/containers":[{"name":"proxy"},{"name":"web"},{"name":"log"},{"name":"worker"}],' +
    `"containers":[{"image":"registry.test/demo/web@${A}","name":"web"},{"image":"registry.test/demo/worker@${B}","name":"worker"}]}}}}`)
})

t.test('an init container of a built image is set too, under its own keys, directives first as Go sorts them', async t => {
  const object = workload([{ name: 'web', image: 'registry.test/demo/web:1' }], [{ name: 'wait', image: 'busybox' }, { name: 'migrate', image: 'registry.test/demo/web:1' }])
  t.equal(patchText(object), '{"spec":{"template":{"spec":{"$setElementOrder/containers":[{"name":"web"}],"$setElementOrder/initContainers":[{"name":"wait"},{"name":"migrate"}],' +
    `"containers":[{"image":"registry.test/demo/web@${A}","name":"web"}],"initContainers":[{"image":"registry.test/demo/web@${A}","name":"migrate"}]}}}}`)
})

t.test('only an init container changes: the containers list is not in the patch at all', async t => {
  const object = workload([{ name: 'web', image: 'nginx:1.27' }], [{ name: 'migrate', image: 'registry.test/demo/web:1' }])
  t.equal(patchText(object), `{"spec":{"template":{"spec":{"$setElementOrder/initContainers":[{"name":"migrate"}],"initContainers":[{"image":"registry.test/demo/web@${A}","name":"migrate"}]}}}}`)
})

t.test('a container already at the digest is left out; when all are, there is no patch and no change, and it is no error', async t => {
  const pinned = `registry.test/demo/web@${A}`
  const some = setImage(workload([{ name: 'web', image: pinned }, { name: 'jobs', image: 'registry.test/demo/web:latest' }]), WEB, BUILT)
  t.equal(JSON.stringify(some.error === null && some.patch), `{"spec":{"template":{"spec":{"$setElementOrder/containers":[{"name":"web"},{"name":"jobs"}],"containers":[{"image":"${pinned}","name":"jobs"}]}}}}`)
  t.same(some.error === null && some.unchanged, [{ container: 'web', init: false, from: pinned, to: pinned }])
  const all = setImage(workload([{ name: 'web', image: pinned }], [{ name: 'migrate', image: pinned }]), WEB, BUILT)
  t.same(all, { error: null, patch: null, changes: [], unchanged: [{ container: 'web', init: false, from: pinned, to: pinned }, { container: 'migrate', init: true, from: pinned, to: pinned }] })
})

t.test('whatever the tag or digest now, the repository decides; another registry with the same path does not match', async t => {
  for (const image of ['registry.test/demo/web', 'registry.test/demo/web:release', `registry.test/demo/web@${B}`, `registry.test/demo/web:release@${B}`, 'Registry.Test/demo/web:1']) {
    t.match(setImage(workload([{ name: 'web', image }]), WEB, BUILT), { error: null, changes: [{ from: image, to: `registry.test/demo/web@${A}` }] }, image)
  }
  for (const image of ['other.test/demo/web:release', 'registry.test:5000/demo/web:release', 'registry.test/demo/web-api:1', 'registry.test/demo', 'demo/web:1']) {
    t.match(setImage(workload([{ name: 'web', image }]), WEB, BUILT), { error: /^deployment\/web has no container/ }, image)
  }
})

t.test('a registry with a port, and Docker Hub short forms, match their normalised spellings and keep the configured one', async t => {
  const port = [{ repository: 'registry.test:5000/demo/web', digest: A }]
  t.match(setImage(workload([{ name: 'web', image: 'registry.test:5000/demo/web:1' }]), WEB, port), { error: null, changes: [{ to: `registry.test:5000/demo/web@${A}` }] })
  const hub = [{ repository: 'docker.io/acme/web', digest: A }]
  for (const image of ['acme/web', 'acme/web:1', 'docker.io/acme/web:1', 'index.docker.io/acme/web']) {
    t.match(setImage(workload([{ name: 'web', image }]), WEB, hub), { error: null, changes: [{ from: image, to: `docker.io/acme/web@${A}` }] }, image)
  }
  const official = [{ repository: 'docker.io/library/web', digest: A }]
  t.match(setImage(workload([{ name: 'web', image: 'web:1' }]), WEB, official), { error: null, changes: [{ to: `docker.io/library/web@${A}` }] }, 'web is docker.io/library/web')
  t.match(setImage(workload([{ name: 'web', image: 'web:1' }]), WEB, [{ repository: 'docker.io/web', digest: A }]), { error: null, changes: [{ to: `docker.io/web@${A}` }] }, 'as configured, not normalised')
})

t.test('no container of a built image: one sentence naming the resource, each container with its image, and the images built', async t => {
  const object = workload([{ name: 'web', image: 'nginx:1.27' }, { name: 'log', image: 'fluent/fluent-bit:3' }], [{ name: 'migrate', image: 'registry.test/demo/tools:1' }])
  t.same(setImage(object, { kind: 'statefulset', name: 'db' }, [...BUILT, { repository: 'registry.test/demo/worker', digest: B }]), {
    error: 'statefulset/db has no container running an image built here (registry.test/demo/web, registry.test/demo/worker): ' +
      'it runs web=nginx:1.27, log=fluent/fluent-bit:3, init container migrate=registry.test/demo/tools:1'
  })
  t.same(setImage({}, WEB, []), { error: 'deployment/web has no container running an image built here (none): it runs no containers' })
  t.same(setImage(workload([{ name: 'web', image: '' }]), WEB, BUILT), { error: 'deployment/web has no container running an image built here (registry.test/demo/web): it runs web=(no image)' })
  t.same(setImage({ spec: { template: { spec: { containers: [{ name: 'web' }] } } } }, WEB, BUILT), { error: 'deployment/web has no container running an image built here (registry.test/demo/web): it runs web=(no image)' }, 'no image key at all')
})

t.test('a container without a name is never patched (the patch would add one)', async t => {
  const object: PodTemplateObject = { spec: { template: { spec: { containers: [{ image: 'registry.test/demo/web:1' }, { name: 'web', image: 'registry.test/demo/web:1' }] } } } }
  t.equal(patchText(object), `{"spec":{"template":{"spec":{"$setElementOrder/containers":[{"name":"web"}],"containers":[{"image":"registry.test/demo/web@${A}","name":"web"}]}}}}`)
})

t.test('a built image that is not a repository with a sha256 digest is refused, not sent', async t => {
  t.same(setImage(workload([{ name: 'web', image: 'registry.test/demo/web:1' }]), WEB, [{ repository: 'registry.test/demo/web', digest: 'sha256:abc' }]), { error: "'registry.test/demo/web@sha256:abc' is not a repository pinned to a digest" })
  t.same(setImage(workload([{ name: 'web', image: 'registry.test/demo/web:1' }]), WEB, [{ repository: 'registry.test/demo/web:1', digest: A }]), { error: `'registry.test/demo/web:1@${A}' is not a repository pinned to a digest` })
})

t.test("the build log's line says what changed and from what, or what already runs", async t => {
  const from = 'registry.test/demo/web:release'
  const to = `registry.test/demo/web@${A}`
  t.equal(setImageLine(WEB, { changes: [{ container: 'web', init: false, from, to }, { container: 'migrate', init: true, from, to }], unchanged: [{ container: 'jobs', init: false, from: to, to }] }),
    `deployment/web: web=${to} (was ${from}), init container migrate=${to} (was ${from}), jobs=${to} (unchanged)`)
  t.equal(setImageLine(WEB, { changes: [], unchanged: [{ container: 'web', init: false, from: to, to }] }), `deployment/web already runs web=${to}`)
})
