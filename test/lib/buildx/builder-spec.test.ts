import t from 'tap'
import { builderMatches, createArgvs, parseBuilderList } from '../../../lib/buildx/builder-spec.js'

const desired = { name: 'build-hook', endpoint: 'tcp://buildkitd:1234', tls: null }

t.test('buildx ls --format json: builder lines are read, anything else is skipped', async t => {
  const lines = [
    '{"Name":"build-hook","Driver":"remote","Nodes":[{"Name":"build-hook0","Endpoint":"tcp://buildkitd:1234","Status":"running"}]}',
    '{"Name":"default","Driver":"docker","Nodes":[{"Name":"default","Endpoint":"default","Status":"","Err":"Cannot connect to the Docker daemon"}],"Err":"Cannot connect to the Docker daemon"}',
    'Cannot load builder default: Cannot connect to the Docker daemon',
    'null',
    '[1]',
    '{"NoName":true}'
  ]
  t.same(parseBuilderList(lines).map(builder => builder.Name), ['build-hook', 'default'])
})

t.test('a builder matches only on the remote driver with one node, named as buildx names it, at the same endpoint and options', async t => {
  const node = { Name: 'build-hook0', Endpoint: 'tcp://buildkitd:1234' }
  t.ok(builderMatches({ Name: 'build-hook', Driver: 'remote', Nodes: [node] }, desired))
  t.ok(builderMatches({ Name: 'build-hook', Driver: 'remote', Nodes: [{ ...node, DriverOpts: null }] }, desired))
  t.notOk(builderMatches({ Name: 'build-hook', Driver: 'docker-container', Nodes: [node] }, desired))
  t.notOk(builderMatches({ Name: 'build-hook', Driver: 'remote', Nodes: [node, node] }, desired))
  t.notOk(builderMatches({ Name: 'build-hook', Driver: 'remote' }, desired))
  t.notOk(builderMatches({ Name: 'build-hook', Driver: 'remote', Nodes: [{ ...node, Endpoint: 'tcp://other:1234' }] }, desired))
  t.notOk(builderMatches({ Name: 'build-hook', Driver: 'remote', Nodes: [{ ...node, Name: 'build-hook-0' }] }, desired), 'the one node left of a nodes config')
  const tls = { ca: '/ca.pem', cert: null, key: null, serverName: 'buildkitd' }
  t.ok(builderMatches({ Name: 'build-hook', Driver: 'remote', Nodes: [{ ...node, DriverOpts: { cacert: '/ca.pem', servername: 'buildkitd' } }] }, { ...desired, tls }))
  t.notOk(builderMatches({ Name: 'build-hook', Driver: 'remote', Nodes: [{ ...node, DriverOpts: { cacert: '/other.pem', servername: 'buildkitd' } }] }, { ...desired, tls }))
  t.notOk(builderMatches({ Name: 'build-hook', Driver: 'remote', Nodes: [node] }, { ...desired, tls }))
})

const nodes = [
  { name: 'build-hook-0', endpoint: 'tcp://amd64:1234', platforms: ['linux/amd64'], tls: null },
  { name: 'build-hook-1', endpoint: 'tcp://arm:1234', platforms: ['linux/arm/v7'], tls: { ca: '/ca.pem', cert: null, key: null, serverName: null } }
]
const twoNodes = { name: 'build-hook', endpoint: 'tcp://amd64:1234', tls: null, nodes }
const listedNodes = [
  { Name: 'build-hook-0', Endpoint: 'tcp://amd64:1234', Status: 'running', Platforms: ['linux/amd64', 'linux/386'] },
  { Name: 'build-hook-1', Endpoint: 'tcp://arm:1234', DriverOpts: { cacert: '/ca.pem' }, Status: 'running', Platforms: ['linux/arm/v7'] }
]

t.test('a single endpoint, given as one node without platforms, is created without --node and --platform', async t => {
  const single = { ...desired, nodes: [{ name: 'build-hook0', endpoint: desired.endpoint, platforms: [], tls: null }] }
  t.same(createArgvs(single), [['buildx', 'create', '--name', 'build-hook', '--driver', 'remote', 'tcp://buildkitd:1234']])
  t.same(createArgvs(desired), [['buildx', 'create', '--name', 'build-hook', '--driver', 'remote', 'tcp://buildkitd:1234']])
})

t.test('a builder of several nodes matches when each node has its name, endpoint, options and platforms', async t => {
  t.ok(builderMatches({ Name: 'build-hook', Driver: 'remote', Nodes: listedNodes }, twoNodes))
})

t.test('a node that is down still lists its configured platforms, and matches on them', async t => {
  t.ok(builderMatches({ Name: 'build-hook', Driver: 'remote', Nodes: [listedNodes[0]!, { ...listedNodes[1]!, Status: 'inactive', Platforms: ['linux/arm/v7'] }] }, twoNodes))
  t.notOk(builderMatches({ Name: 'build-hook', Driver: 'remote', Nodes: [listedNodes[0]!, { ...listedNodes[1]!, Status: 'inactive', Platforms: null }] }, twoNodes), 'a node without its platforms is not the one configured')
})

t.test('a builder of several nodes does not match when a node differs or is missing', async t => {
  t.notOk(builderMatches({ Name: 'build-hook', Driver: 'remote' }, twoNodes))
  t.notOk(builderMatches({ Name: 'build-hook', Driver: 'remote', Nodes: [listedNodes[0]!] }, twoNodes))
  t.notOk(builderMatches({ Name: 'build-hook', Driver: 'docker-container', Nodes: listedNodes }, twoNodes))
  t.notOk(builderMatches({ Name: 'build-hook', Driver: 'remote', Nodes: [listedNodes[0]!, { ...listedNodes[1]!, Name: 'build-hook1' }] }, twoNodes))
  t.notOk(builderMatches({ Name: 'build-hook', Driver: 'remote', Nodes: [listedNodes[0]!, { ...listedNodes[1]!, DriverOpts: null }] }, twoNodes))
  t.notOk(builderMatches({ Name: 'build-hook', Driver: 'remote', Nodes: [listedNodes[0]!, { ...listedNodes[1]!, Platforms: ['linux/arm64'] }] }, twoNodes))
})
