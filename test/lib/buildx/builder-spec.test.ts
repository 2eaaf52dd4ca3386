import t from 'tap'
import { builderMatches, parseBuilderList } from '../../../lib/buildx/builder-spec.js'

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

t.test('a builder matches only on the remote driver with one node at the same endpoint and options', async t => {
  const node = { Endpoint: 'tcp://buildkitd:1234' }
  t.ok(builderMatches({ Name: 'build-hook', Driver: 'remote', Nodes: [node] }, desired))
  t.ok(builderMatches({ Name: 'build-hook', Driver: 'remote', Nodes: [{ ...node, DriverOpts: null }] }, desired))
  t.notOk(builderMatches({ Name: 'build-hook', Driver: 'docker-container', Nodes: [node] }, desired))
  t.notOk(builderMatches({ Name: 'build-hook', Driver: 'remote', Nodes: [node, node] }, desired))
  t.notOk(builderMatches({ Name: 'build-hook', Driver: 'remote' }, desired))
  t.notOk(builderMatches({ Name: 'build-hook', Driver: 'remote', Nodes: [{ Endpoint: 'tcp://other:1234' }] }, desired))
  const tls = { ca: '/ca.pem', cert: null, key: null, serverName: 'buildkitd' }
  t.ok(builderMatches({ Name: 'build-hook', Driver: 'remote', Nodes: [{ ...node, DriverOpts: { cacert: '/ca.pem', servername: 'buildkitd' } }] }, { ...desired, tls }))
  t.notOk(builderMatches({ Name: 'build-hook', Driver: 'remote', Nodes: [{ ...node, DriverOpts: { cacert: '/other.pem', servername: 'buildkitd' } }] }, { ...desired, tls }))
  t.notOk(builderMatches({ Name: 'build-hook', Driver: 'remote', Nodes: [node] }, { ...desired, tls }))
})
