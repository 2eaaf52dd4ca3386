import t from 'tap'
import { ConfigError, parseConfig } from '../../../lib/config/index.js'
import { configProblems, MINIMAL_CONFIG } from '../../helper.js'

const SOURCE = '/etc/build-hook/config.toml'

const TWO_NODES = `
[[app.builder.nodes]]
endpoint = "tcp://buildkitd-amd64:1234"
platforms = ["linux/amd64"]
[[app.builder.nodes]]
endpoint = "tcp://buildkitd-arm64:1234"
platforms = ["linux/arm64", "linux/arm/v7"]
tls = { ca = "/certs/ca.pem", cert = "/certs/cert.pem", key = "/certs/key.pem", server_name = "arm" }
`

/** MINIMAL_CONFIG with `builder` after its [app] table and `image` lines added to its image. */
function config (builder: string, image = ''): string {
  return MINIMAL_CONFIG.replace('registry = "registry.test"\n', `registry = "registry.test"\n${builder}`).replace('tag = "latest"\n', `tag = "latest"\n${image}`)
}

t.test('each [[app.builder.nodes]] entry becomes a node named <builder>-<index>, the first one giving endpoint and tls', async t => {
  const settings = parseConfig(config(TWO_NODES), SOURCE)
  const tls = { ca: '/certs/ca.pem', cert: '/certs/cert.pem', key: '/certs/key.pem', serverName: 'arm' }
  t.same(settings.builder, {
    name: 'build-hook',
    endpoint: 'tcp://buildkitd-amd64:1234',
    tls: null,
    nodes: [
      { name: 'build-hook-0', endpoint: 'tcp://buildkitd-amd64:1234', platforms: ['linux/amd64'], tls: null },
      { name: 'build-hook-1', endpoint: 'tcp://buildkitd-arm64:1234', platforms: ['linux/arm64', 'linux/arm/v7'], tls }
    ],
    maxConcurrentBuilds: 2,
    timeoutSeconds: 3600,
    shutdownGraceSeconds: 120
  })
})

t.test('an image may ask for platforms the nodes offer between them', async t => {
  t.same(configProblems(config(TWO_NODES, 'platforms = ["linux/amd64", "linux/arm64"]\n')), [])
})

t.test('an image asking for a platform no node offers is a config error naming the image and the offered platforms', async t => {
  t.same(configProblems(config(TWO_NODES, 'platforms = ["linux/amd64", "linux/s390x"]\n')), [
    'projects[0].image[0].platforms[1]: no node of app.builder.nodes offers linux/s390x (they offer linux/amd64, linux/arm64, linux/arm/v7)'
  ])
})

t.test('app.builder.endpoint and app.builder.nodes together are a config error at app.builder.nodes', async t => {
  t.same(configProblems(config(`[app.builder]\nendpoint = "tcp://buildkitd:1234"\n${TWO_NODES}`)), [
    'app.builder.nodes: app.builder.endpoint (and app.builder.tls) and app.builder.nodes are alternatives: set one of them'
  ])
})

t.test('app.builder.tls and app.builder.nodes together are a config error at app.builder.nodes', async t => {
  t.same(configProblems(config(`[app.builder]\ntls = { ca = "/ca.pem" }\n${TWO_NODES}`)), [
    'app.builder.nodes: app.builder.endpoint (and app.builder.tls) and app.builder.nodes are alternatives: set one of them'
  ])
})

t.test('an empty node list is a config error, and no image is told its platform is not offered', async t => {
  t.same(configProblems(config('[app.builder]\nnodes = []\n', 'platforms = ["linux/amd64"]\n')), ['app.builder.nodes: must list at least one node'])
})

t.test('a node without platforms is a config error', async t => {
  t.same(configProblems(config('[[app.builder.nodes]]\nendpoint = "tcp://a:1234"\nplatforms = []\n')), [
    'app.builder.nodes[0].platforms: must list at least one platform, e.g. ["linux/amd64"]'
  ])
})

t.test('a node needs an endpoint and platforms', async t => {
  t.same(configProblems(config('[[app.builder.nodes]]\n')), [
    'app.builder.nodes[0].endpoint: is required',
    'app.builder.nodes[0].platforms: is required'
  ])
})

t.test('a node\'s endpoint, platforms and tls follow the single builder\'s rules', async t => {
  const node = '[[app.builder.nodes]]\nendpoint = "http://a:1234"\nplatforms = ["amd64", "linux/arm64", "linux/arm64"]\ntls = { cert = "/cert.pem" }\n'
  t.same(configProblems(config(node)), [
    'app.builder.nodes[0].endpoint: must be tcp://host:port or unix:///path/to/buildkitd.sock',
    'app.builder.nodes[0].platforms[0]: must be os/arch[/variant], e.g. linux/amd64 or linux/arm/v7',
    'app.builder.nodes[0].platforms[2]: duplicate of app.builder.nodes[0].platforms[1] (\'linux/arm64\')',
    'app.builder.nodes[0].tls: cert and key must be set together'
  ])
})

t.test('two nodes at one endpoint are a config error', async t => {
  const node = '[[app.builder.nodes]]\nendpoint = "tcp://a:1234"\nplatforms = ["linux/amd64"]\n'
  t.same(configProblems(config(node + node.replace('amd64', 'arm64'))), [
    'app.builder.nodes[1].endpoint: duplicate of app.builder.nodes[0].endpoint (\'tcp://a:1234\')'
  ])
})

t.test('BUILDKIT_HOST with app.builder.nodes is an environment error naming it', async t => {
  const err = t.throws(() => parseConfig(config(TWO_NODES), SOURCE, { builderEndpoint: 'tcp://override:1234' })) as ConfigError
  t.ok(err instanceof ConfigError)
  t.equal(err.code, 'BH_ENV_INVALID')
  t.equal(err.message, `Invalid environment: BUILDKIT_HOST replaces app.builder.endpoint only; ${SOURCE} sets app.builder.nodes instead: unset BUILDKIT_HOST`)
})

t.test('node platforms are kept as buildx stores them, so the listed builder compares alike; an image asking an alias is offered', async t => {
  const aliases = `
[[app.builder.nodes]]
endpoint = "tcp://buildkitd-amd64:1234"
platforms = ["linux/x86_64", "linux/i386"]
[[app.builder.nodes]]
endpoint = "tcp://buildkitd-arm64:1234"
platforms = ["linux/arm64/v8", "linux/armhf", "linux/armel", "linux/arm/5", "LINUX/AARCH64/8"]
`
  const settings = parseConfig(config(aliases.replace(', "LINUX/AARCH64/8"', ''), 'platforms = ["linux/aarch64", "linux/amd64/v1"]\n'), SOURCE)
  t.same(settings.builder.nodes.map(node => node.platforms), [['linux/amd64', 'linux/386'], ['linux/arm64', 'linux/arm/v7', 'linux/arm/v6', 'linux/arm/v5']])
  t.same(configProblems(config(aliases)), ['app.builder.nodes[1].platforms[4]: must be os/arch[/variant], e.g. linux/amd64 or linux/arm/v7'], 'the rules still apply first')
})

t.test('a platform of two nodes is a config error: buildx gives each platform to one node only', async t => {
  const twice = TWO_NODES.replace('platforms = ["linux/amd64"]', 'platforms = ["linux/amd64", "linux/aarch64"]')
  t.same(configProblems(config(twice)), ['app.builder.nodes[1].platforms[0]: linux/arm64 is already a platform of app.builder.nodes[0]: buildx gives each platform to one node only'])
})
