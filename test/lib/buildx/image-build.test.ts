import { execFile } from 'node:child_process'
import { mkdirSync, readFileSync } from 'node:fs'
import path from 'node:path'
import { promisify } from 'node:util'
import t, { type Test } from 'tap'
import { buildImage } from '../../../lib/buildx/image-build.js'
import { parseConfig } from '../../../lib/config/index.js'
import { FAKE_BIN, FakeDocker, OCI_INDEX, OCI_MANIFEST, startBuildkit } from '../../fixtures/docker.js'
import { configToml, tempDir } from '../../helper.js'

const run = promisify(execFile)
const COMMIT = '0123456789abcdef0123456789abcdef01234567'
const REPO = 'registry.test/demo/web'

async function setup (t: Test) {
  const buildkit = await startBuildkit(t)
  const dir = tempDir(t)
  const docker = new FakeDocker(path.join(dir, 'docker'))
  const env = { PATH: `${FAKE_BIN}${path.delimiter}${process.env.PATH ?? ''}`, HOME: dir, DOCKER_CONFIG: docker.configDir }
  await run('docker', ['buildx', 'create', '--name', 'build-hook', '--driver', 'remote', buildkit.endpoint], { env })
  const build = () => buildImage({
    spec: { builder: 'build-hook', image: parseConfig(configToml(), 'test.toml').projects[0]!.images[0]!, repositoryUrl: 'https://git.test/org/demo', commit: COMMIT, gitAuthHost: null },
    endpoint: buildkit.endpoint,
    tmpRoot: path.join(dir, 'tmp'),
    env,
    signal: new AbortController().signal,
    onLine: () => {}
  })
  return { docker, dir, env, build }
}

t.test('a pushed build leaves its tags in the registry, pointing at the digest it reports', async t => {
  const { docker, build } = await setup(t)
  const result = await build()
  t.equal(result.status, 'succeeded')
  const tags = docker.tags()
  t.same([...tags.keys()].sort(), [`${REPO}:buildcache`, `${REPO}:latest`, `${REPO}:sha-0123456789ab`])
  t.equal(tags.get(`${REPO}:latest`), result.digest)
  t.equal(tags.get(`${REPO}:sha-0123456789ab`), result.digest)
  t.not(tags.get(`${REPO}:buildcache`), result.digest, 'the cache is a manifest of its own')
  t.same(docker.manifests().find(manifest => manifest.digest === result.digest), { repository: REPO, digest: result.digest, mediaType: OCI_INDEX },
    'an index: buildx adds a provenance attestation by default')
})

t.test('a build without provenance pushes a plain image manifest, and its metadata says so', async t => {
  const { docker, dir, env } = await setup(t)
  const context = path.join(dir, 'context')
  mkdirSync(context)
  const metadataFile = path.join(dir, 'metadata.json')
  for (const [i, args] of [['--provenance=false'], ['--attest', 'type=provenance,disabled=true'], []].entries()) {
    const tag = `${REPO}:plain-${i}`
    if (args.length === 0) docker.control({ images: { [REPO]: { provenance: false } } })
    await run('docker', ['buildx', 'build', '--builder', 'build-hook', '--push', ...args, '-t', tag, '--metadata-file', metadataFile, context], { env })
    const metadata = JSON.parse(readFileSync(metadataFile, 'utf8')) as Record<string, unknown>
    const digest = docker.tags().get(tag)
    t.equal(metadata['containerimage.digest'], digest, args.join(' ') || 'the provenance knob')
    t.match(metadata['containerimage.descriptor'], { mediaType: OCI_MANIFEST, digest })
    t.notOk('buildx.build.provenance' in metadata)
    t.match(docker.manifests().find(manifest => manifest.digest === digest), { repository: REPO, mediaType: OCI_MANIFEST })
  }
})

t.test('a build with provenance writes an index and its provenance into the metadata', async t => {
  const { docker, dir, env } = await setup(t)
  const context = path.join(dir, 'context')
  mkdirSync(context)
  const metadataFile = path.join(dir, 'metadata.json')
  await run('docker', ['buildx', 'build', '--builder', 'build-hook', '--push', '--provenance=mode=max', '-t', `${REPO}:x`, '--metadata-file', metadataFile, context], { env })
  const metadata = JSON.parse(readFileSync(metadataFile, 'utf8')) as Record<string, unknown>
  const digest = docker.tags().get(`${REPO}:x`)
  t.match(metadata, { 'containerimage.digest': digest, 'containerimage.descriptor': { mediaType: OCI_INDEX, digest }, 'buildx.build.provenance': Object })
  t.match(docker.manifests().find(manifest => manifest.digest === digest), { mediaType: OCI_INDEX })
})

t.test('a build without --push leaves the registry as it was', async t => {
  const { docker, dir, env } = await setup(t)
  const context = path.join(dir, 'context')
  mkdirSync(context)
  await run('docker', ['buildx', 'build', '--builder', 'build-hook', '-t', `${REPO}:x`, context], { env })
  t.same(docker.manifests(), [])
  t.same(docker.tags(), new Map())
})
