import { execFile, spawn } from 'node:child_process'
import path from 'node:path'
import { promisify } from 'node:util'
import t, { type Test } from 'tap'
import { classifyRetagFailure } from '../../../lib/buildx/failure.js'
import { imagetoolsCreateArgv, retagImage, type RetagSpec } from '../../../lib/buildx/imagetools.js'
import type { Stream } from '../../../lib/process/run-process.js'
import { closedEndpoint, FAKE_BIN, FakeDocker, OCI_INDEX, OCI_MANIFEST, runDocker, type FakeDockerControl } from '../../fixtures/docker.js'
import { eventually, tempDir } from '../../helper.js'
import { alive } from '../../process.js'

const run = promisify(execFile)
const REPO = 'registry.test/demo/web'
const TAG = `${REPO}:release`

/** A registry where `release` moved from an old image to a new one, and a builder whose BuildKit is down (imagetools never dials it). */
async function setup (t: Test, options: { path?: string, builder?: boolean, old?: typeof OCI_INDEX | typeof OCI_MANIFEST } = {}) {
  const dir = tempDir(t)
  const docker = new FakeDocker(path.join(dir, 'docker'))
  const env = { PATH: options.path ?? `${FAKE_BIN}${path.delimiter}${process.env.PATH ?? ''}`, HOME: dir, DOCKER_CONFIG: docker.configDir }
  if (options.builder !== false) {
    await run('docker', ['buildx', 'create', '--name', 'build-hook', '--driver', 'remote', await closedEndpoint()], { env: { ...env, PATH: `${FAKE_BIN}${path.delimiter}${process.env.PATH ?? ''}` } })
  }
  const old = docker.pushManifest(REPO, { mediaType: options.old ?? OCI_INDEX, tags: [`${REPO}:sha-000000000001`] })
  const current = docker.pushManifest(REPO, { tags: [TAG, `${REPO}:sha-000000000002`] })
  const spec: RetagSpec = { builder: 'build-hook', source: `${REPO}@${old}`, tag: TAG }
  return { docker, env, old, current, spec }
}

async function retag (env: Record<string, string>, spec: RetagSpec, signal = new AbortController().signal) {
  const lines: Array<[string, Stream]> = []
  const result = await retagImage({ spec, env, signal, killGraceMs: 5_000, onLine: (line, stream) => lines.push([line, stream]) })
  return { result, lines }
}

t.test('the argv points the tag at the source by digest, as a carbon copy rather than a new index', async t => {
  const spec = { builder: 'build-hook', source: `${REPO}@sha256:${'a'.repeat(64)}`, tag: TAG }
  t.same(imagetoolsCreateArgv(spec), [
    'buildx', 'imagetools', 'create', '--builder', 'build-hook', '--progress=plain', '--prefer-index=false',
    '-t', TAG, `${REPO}@sha256:${'a'.repeat(64)}`
  ])
})

t.test('a retag points the tag back at the old digest and forwards buildx\'s progress', async t => {
  const { docker, env, old, current, spec } = await setup(t)
  const manifests = docker.manifests()
  const { result, lines } = await retag(env, spec)
  t.match(result, { status: 'succeeded', digest: old, error: null, reason: null, durationMs: Number })
  t.same(Object.fromEntries(docker.tags()), {
    [`${REPO}:sha-000000000001`]: old,
    [TAG]: old,
    [`${REPO}:sha-000000000002`]: current
  }, 'only the tag moved')
  t.same(docker.manifests(), manifests, 'no manifest was pushed: the tag points at the one already there')
  t.same(lines, [
    [`#1 [internal] pushing ${TAG}`, 'stderr'],
    [`#1 0.000 pushing ${old} to ${TAG}`, 'stderr'],
    ['#1 DONE 0.0s', 'stderr']
  ])
  t.same(docker.imagetoolsCalls().map(call => [call.argv, call.envKeys]), [[imagetoolsCreateArgv(spec), ['DOCKER_CONFIG', 'HOME', 'PATH']]])
  t.match(docker.retags(), [{ tags: [TAG], digest: old, sources: [`${REPO}@${old}`] }])
})

t.test('an old image that is a plain manifest (built without provenance) keeps its digest too', async t => {
  const { docker, env, old, current, spec } = await setup(t, { old: OCI_MANIFEST })
  const { result } = await retag(env, spec)
  t.match(result, { status: 'succeeded', digest: old })
  t.equal(docker.tags().get(TAG), old)
  t.same(docker.manifests().map(manifest => manifest.digest).sort(), [old, current].sort(), 'no index was made around it')
})

t.test('without --prefer-index=false a manifest source is wrapped in a new index: the tag would not get the old digest', async t => {
  const { docker: registry, env, old } = await setup(t, { old: OCI_MANIFEST })
  for (const [i, flags] of [[], ['--prefer-index=true'], ['--prefer-index']].entries()) {
    const tag = `${REPO}:wrapped-${i}`
    const ran = await runDocker(env, ['buildx', 'imagetools', 'create', '--builder', 'build-hook', '--progress=plain', ...flags, '-t', tag, `${REPO}@${old}`])
    t.equal(ran.code, 0, ran.stderr)
    const digest = registry.tags().get(tag)!
    t.not(digest, old, `${flags.join(' ') || 'the default'}: a digest of its own`)
    t.match(registry.manifests().find(manifest => manifest.digest === digest), { repository: REPO, mediaType: OCI_INDEX }, 'a new index')
    t.match(ran.stderr, `#1 0.000 pushing ${digest} to ${tag}`)
  }
  const ran = await runDocker(env, ['buildx', 'imagetools', 'create', '--builder', 'build-hook', '--progress=plain', '--prefer-index=false', '-t', `${REPO}:copy`, `${REPO}@${old}`])
  t.equal(ran.code, 0, ran.stderr)
  t.equal(registry.tags().get(`${REPO}:copy`), old, '--prefer-index=false: the old digest itself')
})

t.test('an index source keeps its digest whatever --prefer-index says', async t => {
  const { docker: registry, env, old } = await setup(t, { old: OCI_INDEX })
  const ran = await runDocker(env, ['buildx', 'imagetools', 'create', '--builder', 'build-hook', '-t', `${REPO}:kept`, `${REPO}@${old}`])
  t.equal(ran.code, 0, ran.stderr)
  t.equal(registry.tags().get(`${REPO}:kept`), old)
})

const failures: Array<[string, FakeDockerControl | 'deleted', string, (old: string) => string]> = [
  ['the old image was garbage-collected', 'deleted', 'image-not-found',
    old => `${REPO}@${old}: the image is no longer in the registry (deleted or garbage-collected); it cannot be restored by retagging`],
  ['the registry is down', { images: { [REPO]: { imagetools: 'registry-down' } } }, 'push-failed',
    old => `the registry is unreachable: pointing ${TAG} at ${old} failed (connection refused)`],
  ['the registry forbids the push (403)', { images: { [REPO]: { imagetools: 'push-denied' } } }, 'push-denied',
    old => `the registry refused to point ${TAG} at ${old}: not authorised (check the registry credentials in the Docker config)`],
  ['the credentials may pull but not push (401)', { images: { [REPO]: { imagetools: 'push-unauthorized' } } }, 'push-denied',
    old => `the registry refused to point ${TAG} at ${old}: not authorised (check the registry credentials in the Docker config)`]
]

for (const [name, control, reason, message] of failures) {
  t.test(`${name}: the retag fails with reason ${reason} and the tag is left as it was`, async t => {
    const { docker, env, old, current, spec } = await setup(t)
    if (control === 'deleted') docker.deleteManifest(REPO, old)
    else docker.control(control)
    const { result } = await retag(env, spec)
    t.match(result, { status: 'failed', digest: null, reason, error: message(old) })
    t.equal(docker.tags().get(TAG), current)
    t.same(docker.retags(), [])
  })
}

t.test('a deleted manifest takes its tags with it, as the registry API does', async t => {
  const { docker, old } = await setup(t)
  docker.deleteManifest(REPO, old)
  t.notOk(docker.manifests().some(manifest => manifest.digest === old))
  t.notOk(docker.tags().has(`${REPO}:sha-000000000001`))
})

t.test('the push refusals print as buildx prints them: the vertex, its error, its logs fenced, the final error', async t => {
  const { docker: registry, env, old } = await setup(t, { old: OCI_MANIFEST })
  registry.control({ images: { [REPO]: { imagetools: 'push-denied' } } })
  const ran = await runDocker(env, ['buildx', 'imagetools', 'create', '--builder', 'build-hook', '--progress=plain', '--prefer-index=false', '-t', TAG, `${REPO}@${old}`])
  const error = `failed commit on ref "manifest-${old}": unexpected status from PUT request to https://registry.test/v2/demo/web/manifests/release: 403 Forbidden\ndenied: requested access to the resource is denied`
  t.equal(ran.code, 1)
  t.equal(ran.stderr, [
    `#1 [internal] pushing ${TAG}`,
    `#1 0.000 pushing ${old} to ${TAG}`,
    `#1 ERROR: ${error}`,
    '------',
    ` > [internal] pushing ${TAG}:`,
    `0.000 pushing ${old} to ${TAG}`,
    '------',
    `ERROR: ${error}`,
    ''
  ].join('\n'))
})

t.test('an interrupt cancels the retag: docker exits and the tag is left as it was', async t => {
  const { docker, env, current, spec } = await setup(t)
  docker.control({ images: { [REPO]: { imagetools: 'hang' } } })
  const controller = new AbortController()
  const pending = retag(env, spec, controller.signal)
  const hanging = await eventually(() => docker.calls().find(call => call.event === 'hanging'), 'the push to be under way')
  controller.abort()
  const { result, lines } = await pending
  t.match(result, { status: 'cancelled', digest: null, error: null, reason: null })
  t.ok(docker.calls().some(call => call.event === 'interrupted'), 'docker saw the interrupt')
  t.notOk(alive(hanging.pid))
  t.equal(docker.tags().get(TAG), current)
  t.same(lines.slice(-2).map(([line]) => line), ['#1 CANCELED', `ERROR: failed commit on ref "index-${spec.source.split('@')[1]!}": failed to do request: Put "https://registry.test/v2/demo/web/manifests/release": context canceled`])
})

t.test('SIGTERM ends a hanging imagetools create with status 130, as it ends a build', async t => {
  const { docker, env, spec } = await setup(t)
  docker.control({ images: { [REPO]: { imagetools: 'hang' } } })
  const child = spawn('docker', imagetoolsCreateArgv(spec), { env, stdio: 'ignore' })
  const exited = new Promise<number | null>(resolve => child.on('exit', code => resolve(code)))
  await eventually(() => docker.calls().find(call => call.event === 'hanging'), 'the push to be under way')
  child.kill('SIGTERM')
  t.equal(await exited, 130)
  t.match(docker.calls().filter(call => call.event === 'interrupted'), [{ tags: [TAG] }])
})

t.test('an unknown builder fails before the registry is asked anything', async t => {
  const { docker, env, current, spec } = await setup(t, { builder: false })
  docker.control({ images: { [REPO]: { imagetools: 'registry-down' } } })
  const { result, lines } = await retag(env, spec)
  t.match(result, { status: 'failed', reason: 'unknown', error: `cannot retag ${TAG}: the buildx builder "build-hook" does not exist (it is created when the service starts)` })
  t.same(lines, [['ERROR: no builder "build-hook" found', 'stderr']])
  t.equal(docker.tags().get(TAG), current)
})

t.test('docker without the buildx plugin', async t => {
  const { docker, env, spec } = await setup(t)
  docker.control({ buildx: false })
  const { result } = await retag(env, spec)
  t.match(result, { status: 'failed', reason: 'buildx-missing', error: "the docker buildx plugin is not installed: docker has no 'buildx' command (install your distribution's docker-buildx-plugin package, or put the docker-buildx binary in ~/.docker/cli-plugins/ or, with DOCKER_CONFIG set, in $DOCKER_CONFIG/cli-plugins/)" })
})

t.test('docker missing from PATH', async t => {
  const { env, spec } = await setup(t)
  const { result } = await retag({ ...env, PATH: '/nonexistent' }, spec)
  t.match(result, { status: 'failed', reason: 'docker-missing', error: "docker is not installed: no 'docker' executable on PATH" })
})

t.test('the double refuses the arguments buildx refuses', async t => {
  const { env, old } = await setup(t)
  const create = ['buildx', 'imagetools', 'create', '--builder', 'build-hook']
  const cases: Array<[string[], string]> = [
    [[], 'ERROR: no sources specified'],
    [[`${REPO}@${old}`], "ERROR: can't push with no tags specified, please set --tag or --dry-run"],
    [['-t', 'registry.test/demo/Web:x', `${REPO}@${old}`], 'ERROR: invalid reference format: repository name (demo/Web) must be lowercase'],
    [['-t', TAG, `${REPO}@sha256:abc`], `ERROR: failed to parse source "${REPO}@sha256:abc", valid sources are digests, references and descriptors: invalid reference format`],
    [['-t', TAG, `${REPO}@sha256:${'a'.repeat(40)}`], `ERROR: failed to parse source "${REPO}@sha256:${'a'.repeat(40)}", valid sources are digests, references and descriptors: invalid checksum digest length`],
    [['--prefer-index=maybe', '-t', TAG, `${REPO}@${old}`], 'invalid argument "maybe" for "--prefer-index" flag: strconv.ParseBool: parsing "maybe": invalid syntax\nSee \'docker buildx imagetools create --help\'.'],
    [['--progress=fancy', '-t', TAG, `${REPO}@${old}`], 'ERROR: invalid progress mode fancy']
  ]
  for (const [args, stderr] of cases) {
    const ran = await runDocker(env, [...create, ...args])
    t.same([ran.code, ran.stderr.trimEnd()], [1, stderr], args.join(' ') || 'no arguments')
  }
})

t.test('retag failures read from output the double cannot produce', async t => {
  const context = { builder: 'build-hook', source: `${REPO}@sha256:${'a'.repeat(64)}`, tag: TAG }
  const exit1 = { code: 1, spawnError: null, aborted: false }
  t.same(classifyRetagFailure(exit1, ['ERROR: failed commit on ref "index-sha256:1": unexpected status from PUT request to https://registry.test/v2/demo/web/manifests/release: 500 Internal Server Error'], context), {
    reason: 'push-failed',
    message: `pointing ${TAG} at sha256:${'a'.repeat(64)} failed: failed commit on ref "index-sha256:1": unexpected status from PUT request to https://registry.test/v2/demo/web/manifests/release: 500 Internal Server Error`
  })
  t.same(classifyRetagFailure(exit1, ['ERROR: failed to parse annotations: invalid annotation "x", expected key=value'], context),
    { reason: 'unknown', message: `cannot retag ${TAG}: failed to parse annotations: invalid annotation "x", expected key=value` })
  t.same(classifyRetagFailure({ code: 137, spawnError: null, aborted: false }, [], context), { reason: 'unknown', message: 'docker exited with code 137' })
})
