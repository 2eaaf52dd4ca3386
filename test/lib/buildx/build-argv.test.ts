import t from 'tap'
import { buildArgv, commitTag, gitContext } from '../../../lib/buildx/build-argv.js'
import { parseConfig } from '../../../lib/config/index.js'
import { configToml } from '../../helper.js'

const COMMIT = '0123456789abcdef0123456789abcdef01234567'
const METADATA = '/tmp/build-hook-x/metadata.json'

function imageOf (imageToml: string, url: string) {
  return parseConfig(configToml([{ url, image: imageToml }]), 'test.toml').projects[0]!.images[0]!
}

function argv (imageToml: string, options: { gitAuthHost?: string, url?: string } = {}): string[] {
  const url = options.url ?? 'https://git.test/org/demo'
  return buildArgv({ builder: 'build-hook', image: imageOf(imageToml, url), repositoryUrl: url, commit: COMMIT, metadataFile: METADATA, gitAuthHost: options.gitAuthHost ?? null })
}

const COMMON = [
  'buildx', 'build', '--builder', 'build-hook', '--progress=plain', '--push',
  '-t', 'registry.test/demo/web:latest', '-t', 'registry.test/demo/web:sha-0123456789ab',
  '--label', `org.opencontainers.image.revision=${COMMIT}`,
  '--label', 'org.opencontainers.image.source=https://git.test/org/demo',
  '--metadata-file', METADATA
]
const REGISTRY_CACHE = ['--cache-from', 'type=registry,ref=registry.test/demo/web:buildcache', '--cache-to', 'type=registry,ref=registry.test/demo/web:buildcache,mode=max']

t.test('the default: registry cache, the repository root as context, pinned to the commit', async t => {
  t.same(argv('location = "Dockerfile"\ntag = "latest"'), [...COMMON, ...REGISTRY_CACHE, '-f', 'Dockerfile', `https://git.test/org/demo.git#${COMMIT}`])
})

t.test('a Dockerfile in a sub-directory: that directory is the context and -f is relative to it', async t => {
  t.same(argv('location = "api/Dockerfile"\ntag = "latest"').slice(-3), ['-f', 'Dockerfile', `https://git.test/org/demo.git#${COMMIT}:api`])
})

t.test('a context override keeps -f relative to the context directory', async t => {
  t.same(argv('location = "docker/api/Dockerfile.prod"\ncontext = "docker"\ntag = "latest"').slice(-3), ['-f', 'api/Dockerfile.prod', `https://git.test/org/demo.git#${COMMIT}:docker`])
  t.same(argv('location = "docker/Dockerfile"\ncontext = "."\ntag = "latest"').slice(-3), ['-f', 'docker/Dockerfile', `https://git.test/org/demo.git#${COMMIT}`])
})

t.test('the inline cache reads from the tag itself and writes into the image', async t => {
  t.same(argv('location = "Dockerfile"\ntag = "latest"\ncache = "inline"'), [
    ...COMMON, '--cache-from', 'type=registry,ref=registry.test/demo/web:latest', '--cache-to', 'type=inline',
    '-f', 'Dockerfile', `https://git.test/org/demo.git#${COMMIT}`
  ])
})

t.test('no cache: no cache flags at all', async t => {
  t.same(argv('location = "Dockerfile"\ntag = "latest"\ncache = "none"'), [...COMMON, '-f', 'Dockerfile', `https://git.test/org/demo.git#${COMMIT}`])
})

t.test('target, platforms and build args, in that order', async t => {
  t.same(argv('location = "Dockerfile"\ntag = "latest"\ncache = "none"\ntarget = "runtime"\nplatforms = ["linux/amd64", "linux/arm64"]\nbuild_args = { NODE_ENV = "production", GREETING = "a b=c" }'), [
    ...COMMON, '--target', 'runtime', '--platform', 'linux/amd64,linux/arm64',
    '--build-arg', 'NODE_ENV=production', '--build-arg', 'GREETING=a b=c',
    '-f', 'Dockerfile', `https://git.test/org/demo.git#${COMMIT}`
  ])
})

t.test('a private repository gets the token as a BuildKit secret for its own host, read from the environment, never its value', async t => {
  t.same(argv('location = "Dockerfile"\ntag = "latest"\ncache = "none"', { gitAuthHost: 'git.test' }), [
    ...COMMON, '--secret', 'id=GIT_AUTH_TOKEN.git.test,env=GIT_AUTH_TOKEN', '-f', 'Dockerfile', `https://git.test/org/demo.git#${COMMIT}`
  ])
})

t.test('a URL that already ends in .git keeps it; a trailing slash goes', async t => {
  t.equal(gitContext('https://git.test/org/demo.git', COMMIT, '.'), `https://git.test/org/demo.git#${COMMIT}`)
  t.equal(gitContext('https://git.test/org/demo/', COMMIT, 'web'), `https://git.test/org/demo.git#${COMMIT}:web`)
})

t.test('the commit tag is sha- and the first 12 hex digits', async t => {
  t.equal(commitTag(COMMIT), 'sha-0123456789ab')
})
