import { execFileSync, spawnSync } from 'node:child_process'
import { appendFileSync, cpSync, existsSync, readdirSync, readFileSync } from 'node:fs'
import path from 'node:path'
import t, { type Test } from 'tap'
import { parseAllDocuments } from 'yaml'
import TOML from '@iarna/toml'
import { readConfig } from '../lib/config/index.js'
import { EnvSchema } from '../lib/env.js'
import { loadKubeConfig } from '../lib/kube/kube-config.js'
import { KubeDeployer } from '../lib/kube/kube-deployer.js'
import { startFakeKube } from './fixtures/kube-api.js'
import { ROOT, tempDir } from './helper.js'

// The deployment kit checked against the service itself, with no cluster: what the manifests say must be
// what the code does.

type Json = Record<string, any>
const DEPLOY = path.join(ROOT, 'deploy')
const ARM64 = path.join(DEPLOY, 'components', 'buildkitd-arm64')
const hasKubectl = spawnSync('kubectl', ['version', '--client'], { stdio: 'ignore' }).status === 0

function yamlFiles (dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap(entry => {
    const full = path.join(dir, entry.name)
    if (entry.isDirectory()) return yamlFiles(full)
    return /\.ya?ml$/.test(entry.name) ? [full] : []
  })
}

function documents (file: string): Json[] {
  return parseAllDocuments(readFileSync(file, 'utf8')).map(doc => {
    if (doc.errors.length > 0) throw new Error(`${file}: ${doc.errors.map(e => e.message).join('; ')}`)
    return doc.toJS() as Json
  }).filter(Boolean)
}

const find = (file: string, kind: string, name: string): Json => {
  const found = documents(path.join(DEPLOY, file)).find(doc => doc.kind === kind && doc.metadata?.name === name)
  if (found === undefined) throw new Error(`no ${kind} ${name} in ${file}`)
  return found
}

const kustomization = documents(path.join(DEPLOY, 'kustomization.yaml'))[0]!
const hook = find('build-hook.yaml', 'Deployment', 'build-hook')
const pod = hook.spec.template.spec
const container = pod.containers[0]
const envValue = (name: string): string | undefined => container.env.find((e: Json) => e.name === name)?.value
const config = readConfig(path.join(DEPLOY, 'config.toml'))

t.test('every manifest parses, and the kustomization names files that exist', async t => {
  for (const file of yamlFiles(DEPLOY)) t.ok(documents(file).length > 0, path.relative(ROOT, file))
  for (const resource of kustomization.resources as string[]) t.ok(existsSync(path.join(DEPLOY, resource)), resource)
  for (const generator of kustomization.configMapGenerator as Json[]) for (const file of generator.files as string[]) t.ok(existsSync(path.join(DEPLOY, file)), file)
  t.equal(kustomization.namespace, 'build')
})

t.test("the ConfigMap's config.toml passes the service's own validation", async t => {
  t.equal(config.projects.length > 0, true)
  t.equal(config.builder.endpoint, envValue('BUILDKIT_HOST'), 'the builder endpoint is the buildkitd Service')
})

t.test('the probes and the port match the routes and PORT', async t => {
  const port = container.ports.find((p: Json) => p.name === 'http')
  t.equal(String(port.containerPort), envValue('PORT'))
  t.same(container.livenessProbe.httpGet, { path: '/health', port: 'http' })
  t.same(container.readinessProbe.httpGet, { path: '/ready', port: 'http' })
  const service = find('build-hook.yaml', 'Service', 'build-hook')
  t.equal(service.spec.ports[0].targetPort, 'http')
  const buildkit = find('buildkitd.yaml', 'Service', 'buildkitd')
  t.equal(`tcp://${buildkit.metadata.name}.${kustomization.namespace}.svc.cluster.local:${buildkit.spec.ports[0].port}`, envValue('BUILDKIT_HOST'))
})

t.test('every variable the Deployment sets is one the service reads', async t => {
  const known = new Set([...Object.keys(EnvSchema.properties), ...config.projects.map(p => p.webhookSecretEnv).filter((name): name is string => name !== null)])
  for (const entry of container.env as Json[]) t.ok(known.has(entry.name), entry.name)
  for (const name of new Set(config.projects.map(p => p.webhookSecretEnv))) t.ok(container.env.some((e: Json) => e.name === name), `the webhook secret ${String(name)} is set`)
})

t.test('every Secret and ConfigMap key the Deployment uses exists in the templates', async t => {
  const secrets = documents(path.join(DEPLOY, 'secrets.example.yaml'))
  const keysOf = (name: string): string[] => Object.keys(secrets.find(doc => doc.kind === 'Secret' && doc.metadata.name === name)?.stringData ?? {})
  for (const entry of container.env as Json[]) {
    const ref = entry.valueFrom?.secretKeyRef
    if (ref !== undefined) t.ok(keysOf(ref.name).includes(ref.key), `${ref.name}/${ref.key}`)
  }
  for (const volume of pod.volumes as Json[]) {
    if (volume.secret !== undefined) for (const item of volume.secret.items) t.ok(keysOf(volume.secret.secretName).includes(item.key), `${volume.secret.secretName}/${item.key}`)
    if (volume.configMap !== undefined) t.ok((kustomization.configMapGenerator as Json[]).some(g => g.name === volume.configMap.name), volume.configMap.name)
  }
  t.match(readFileSync(path.join(DEPLOY, 'secrets.example.yaml'), 'utf8'), /replace-me/, 'the template holds no real values')
  t.notOk((kustomization.resources as string[]).includes('secrets.example.yaml'), 'and is never applied by the kustomization')
})

t.test('the local set-up (deploy/local) is what the sample config.toml points at', async t => {
  const sample = readConfig(path.join(ROOT, 'config.toml'))
  const compose = documents(path.join(DEPLOY, 'local', 'compose.yaml'))[0]!
  const { registry, buildkitd } = compose.services
  // buildkitd runs in the registry's network, so the registry's published ports are both daemons' ports.
  t.equal(buildkitd.network_mode, 'service:registry')
  t.same(registry.ports, ['127.0.0.1:5000:5000', '127.0.0.1:1234:1234'])
  t.equal(sample.registry, 'localhost:5000', 'the hook pushes where the registry listens')
  t.equal(sample.builder.endpoint, 'tcp://127.0.0.1:1234', 'the hook dials where buildkitd listens')
  t.same(buildkitd.command.slice(0, 2), ['--addr', 'tcp://0.0.0.0:1234'])
  const mount = (buildkitd.volumes as string[]).find(volume => volume.startsWith('./buildkitd.toml:'))!
  t.equal(mount, `./buildkitd.toml:${buildkitd.command[3] as string}:ro`, 'buildkitd reads the mounted config')
  const buildkitdToml = TOML.parse(readFileSync(path.join(DEPLOY, 'local', 'buildkitd.toml'), 'utf8')) as Json
  t.same(buildkitdToml.registry[sample.registry], { http: true }, 'BuildKit pushes to the local registry over plain HTTP')
  t.same(sample.projects.map(project => project.deployments), [null], 'the sample deploys nowhere until a cluster is there')
})

t.test('the grace periods are ordered: drain + build grace + shutdown timeout < terminationGracePeriodSeconds', async t => {
  const drain = Number(envValue('SHUTDOWN_DRAIN_SECONDS'))
  t.ok(drain + config.builder.shutdownGraceSeconds + 10 < pod.terminationGracePeriodSeconds, `${drain} + ${config.builder.shutdownGraceSeconds} + 10 < ${String(pod.terminationGracePeriodSeconds)}`)
})

/** The API verbs and resources the deploy step calls: every kind, each strategy, rollouts followed, against the fake API server. */
async function deployCalls (t: Test): Promise<{ resources: string[], verbs: string[] }> {
  const kube = await startFakeKube(t, tempDir(t))
  const deployer = new KubeDeployer({ kubeConfig: () => loadKubeConfig({ KUBECONFIG: kube.kubeconfig }), pollMs: 20 })
  kube.add('deployments', 'app', 'web', { containers: [{ name: 'web', image: 'registry.test/demo/web:latest' }] })
  kube.add('statefulsets', 'app', 'db', { containers: [{ name: 'db', image: 'registry.test/demo/web:latest' }] })
  kube.add('daemonsets', 'app', 'agent', { containers: [{ name: 'agent', image: 'registry.test/demo/web:latest' }] })
  const resources = [{ kind: 'deployment', name: 'web' }, { kind: 'statefulset', name: 'db' }, { kind: 'daemonset', name: 'agent' }] as const
  for (const strategy of ['restart', 'digest'] as const) {
    const outcome = await deployer.deploy({ namespace: 'app', resources: [...resources], strategy, wait: true, timeoutSeconds: 30 }, {
      signal: AbortSignal.timeout(30_000),
      onLine: () => {},
      images: [{ repository: 'registry.test/demo/web', digest: `sha256:${'a'.repeat(64)}` }]
    })
    t.equal(outcome.status, 'succeeded', `${strategy}: ${outcome.error ?? ''}`)
  }
  const verbOf: Record<string, string> = { GET: 'get', PATCH: 'patch', PUT: 'update', POST: 'create', DELETE: 'delete' }
  return {
    // /apis/apps/v1/namespaces/<ns>/<resource>/<name>[/<subresource>]: RBAC names a subresource as <resource>/<subresource>.
    resources: [...new Set(kube.requests.map(request => request.path.split('/').slice(6).filter((_, i) => i !== 1).join('/')))].sort(),
    verbs: [...new Set(kube.requests.map(request => verbOf[request.method] ?? request.method))].sort()
  }
}

t.test('the RBAC grants exactly what the deploy step calls, to the hook, in each namespace it deploys to', async t => {
  const rbac = documents(path.join(DEPLOY, 'rbac', 'target-namespace.yaml'))
  const role = rbac.find(doc => doc.kind === 'Role')!
  const calls = await deployCalls(t)
  t.same(calls, { resources: ['daemonsets', 'deployments', 'statefulsets'], verbs: ['get', 'patch'] }, 'what the deploy step calls')
  t.equal(role.rules.length, 1, 'one rule')
  const [rule] = role.rules as Array<{ apiGroups: string[], resources: string[], verbs: string[] }>
  t.same({ apiGroups: rule!.apiGroups, resources: [...rule!.resources].sort(), verbs: [...rule!.verbs].sort() }, { apiGroups: ['apps'], ...calls }, 'the role grants exactly that')
  const binding = rbac.find(doc => doc.kind === 'RoleBinding')!
  t.same(binding.subjects, [{ kind: 'ServiceAccount', name: pod.serviceAccountName, namespace: kustomization.namespace }])
  t.same(binding.roleRef, { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: role.metadata.name })
  for (const project of config.projects.filter(p => p.deployments !== null)) t.equal(role.metadata.namespace, project.deployments!.namespace, `a Role for ${project.slug}'s namespace`)
})

t.test('the hook runs as non-root with a read-only root filesystem, its data on the volume', async t => {
  t.match(pod.securityContext, { runAsNonRoot: true, runAsUser: 10001 })
  t.match(container.securityContext, { allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ['ALL'] } })
  const mounts = new Map((container.volumeMounts as Json[]).map(m => [m.mountPath, m.name]))
  t.equal(mounts.get(envValue('DATA_DIR')), 'data')
  t.equal(mounts.get(envValue('DOCKER_CONFIG')), 'docker-config', 'buildx can write its builder')
  t.equal(mounts.get(path.dirname(envValue('CONFIG_PATH')!)), 'config')
  t.equal(hook.spec.strategy.type, 'Recreate', 'one writer of the SQLite store')
})

t.test('the mTLS component mounts the client certificates where the documented config points', async t => {
  const component = readFileSync(path.join(DEPLOY, 'components', 'buildkitd-mtls', 'kustomization.yaml'), 'utf8')
  const patch = documents(path.join(DEPLOY, 'components', 'buildkitd-mtls', 'build-hook-tls.yaml'))[0]!
  const mount = patch.spec.template.spec.containers[0].volumeMounts[0].mountPath
  for (const file of ['ca.pem', 'cert.pem', 'key.pem']) t.match(component, `"${mount}/${file}"`)
})

t.test('the Dockerfile: Node LTS, non-root, tini then node dist/server.js, no HEALTHCHECK; .dockerignore keeps the context small', async t => {
  const dockerfile = readFileSync(path.join(ROOT, 'Dockerfile'), 'utf8')
  const from = [...dockerfile.matchAll(/^FROM (\S+)/gm)].map(match => match[1]!)
  t.match(from.at(-1), /^node:(20|22|24)-\w+-slim$/, 'the final stage is a slim Node LTS image')
  t.same(from.filter(image => image.startsWith('node:')), [from.at(-1), from.at(-1)], 'built with that same Node.js (the code cache fits only its V8)')
  const compiled = (JSON.parse(readFileSync(path.join(ROOT, 'tsconfig.build.json'), 'utf8')) as { include: string[] }).include.filter(entry => !entry.includes('/'))
  const copied = dockerfile.split('\n').filter(line => line.startsWith('COPY ')).flatMap(line => line.split(' '))
  for (const file of compiled) t.ok(copied.includes(file), `the build stage has ${file}`)
  t.ok(from.includes('docker:28.2-cli') && from.includes('docker/buildx-bin:0.28.0'), 'the CLI and buildx from their official images')
  t.match(dockerfile, /^USER 10001:10001$/m)
  t.match(dockerfile, /^CMD \["node", "dist\/server\.js"\]$/m)
  // The same Node flags (none) wherever the server is started: npm start and the README's systemd unit.
  t.equal(JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')).scripts.start, 'exec node scripts/start.mjs')
  t.match(readFileSync(path.join(ROOT, 'README.md'), 'utf8'), /^ {2}ExecStart=\/usr\/bin\/node dist\/server\.js$/m)
  // The hook is not PID 1: an init reaps orphans (docker children outliving their parent) and forwards signals.
  t.match(dockerfile, /apt-get install .*\btini\b/, 'tini from Debian')
  t.match(dockerfile, /^ENTRYPOINT \["\/usr\/bin\/tini", "--"\]$/m)
  t.equal(dockerfile.match(/^(ENTRYPOINT|CMD) /gm)!.length, 2, 'one ENTRYPOINT, one CMD')
  t.equal(container.command, undefined, "the Deployment keeps the image's ENTRYPOINT (tini)")
  t.notMatch(dockerfile, /^HEALTHCHECK/m)
  t.match(dockerfile, /npm prune --omit=dev/)
  t.match(dockerfile, /apt-get install .*\bgit\b/)
  t.match(dockerfile, /^COPY ui \.\/ui$/m, 'the dashboard\'s files, served from <app>/ui')
  t.match(dockerfile, /^RUN chmod 755 dist\/bin\/build-hook\.js && ln -s \/app\/dist\/bin\/build-hook\.js \/usr\/local\/bin\/build-hook$/m, 'the CLI on PATH')
  t.match(readFileSync(path.join(ROOT, 'bin', 'build-hook.ts'), 'utf8'), /^#!\/usr\/bin\/env node\n/, 'which runs by its #! line')
  const ignored = readFileSync(path.join(ROOT, '.dockerignore'), 'utf8').split('\n')
  for (const entry of ['.git', 'node_modules', 'dist', 'data', 'test']) t.ok(ignored.includes(entry), entry)
})

t.test('kubectl kustomize renders the base, with and without the mTLS component', { skip: !hasKubectl && 'kubectl is not installed' }, async t => {
  const rendered = parseAllDocuments(execFileSync('kubectl', ['kustomize', DEPLOY], { encoding: 'utf8' })).map(doc => doc.toJS() as Json)
  t.same(rendered.map(doc => `${doc.kind}/${doc.metadata.name}`).sort(), [
    'ConfigMap/' + rendered.find(doc => doc.kind === 'ConfigMap')!.metadata.name, 'Deployment/build-hook', 'Deployment/buildkitd', 'Namespace/build',
    'NetworkPolicy/buildkitd', 'PersistentVolumeClaim/build-hook-data', 'Service/build-hook', 'Service/buildkitd', 'ServiceAccount/build-hook'
  ].sort())
  const configMap = rendered.find(doc => doc.kind === 'ConfigMap')!
  const deployment = rendered.find(doc => doc.kind === 'Deployment' && doc.metadata.name === 'build-hook')!
  t.equal(deployment.spec.template.spec.volumes.find((v: Json) => v.name === 'config').configMap.name, configMap.metadata.name, 'the hashed ConfigMap name is wired in')
})

// The component buildkitd-arm64: a second BuildKit node, and the builder made of both.

const arm64Kustomization = documents(path.join(ARM64, 'kustomization.yaml'))[0]!
const tomlOf = (file: string): Json => TOML.parse(readFileSync(file, 'utf8')) as Json
const serviceEndpoint = (service: Json): string => `tcp://${service.metadata.name as string}.${kustomization.namespace as string}.svc.cluster.local:${String(service.spec.ports[0].port)}`
const baseBuildkitd = find('buildkitd.yaml', 'Deployment', 'buildkitd')
const arm64Documents = documents(path.join(ARM64, 'buildkitd-arm64.yaml'))
const arm64Of = (kind: string): Json => arm64Documents.find(doc => doc.kind === kind && doc.metadata.name === 'buildkitd-arm64')!

t.test('the arm64 component names files that exist and replaces the ConfigMap with its own config.toml', async t => {
  t.equal(arm64Kustomization.kind, 'Component')
  for (const file of [...arm64Kustomization.resources as string[], ...(arm64Kustomization.patches as Json[]).map(patch => patch.path as string)]) t.ok(existsSync(path.join(ARM64, file)), file)
  t.same(arm64Kustomization.configMapGenerator, [{ name: 'build-hook-config', behavior: 'replace', files: ['config.toml'] }])
})

t.test("the arm64 component's config.toml is deploy/config.toml with two builder nodes, one per buildkitd Service, instead of an endpoint", async t => {
  const base = tomlOf(path.join(DEPLOY, 'config.toml'))
  const component = tomlOf(path.join(ARM64, 'config.toml'))
  const { endpoint, ...builder } = base.app.builder
  t.equal(endpoint, serviceEndpoint(find('buildkitd.yaml', 'Service', 'buildkitd')))
  t.same(component, { ...base, app: { ...base.app, builder: { ...builder, nodes: component.app.builder.nodes } } }, 'everything else is the same')
  t.same(component.app.builder.nodes, [
    { endpoint, platforms: ['linux/amd64'] },
    { endpoint: serviceEndpoint(arm64Of('Service')), platforms: ['linux/arm64'] }
  ])
})

t.test("the arm64 component's config.toml passes the service's own validation", async t => {
  const settings = readConfig(path.join(ARM64, 'config.toml'))
  t.same(settings.builder.nodes, [
    { name: 'build-hook-0', endpoint: 'tcp://buildkitd.build.svc.cluster.local:1234', platforms: ['linux/amd64'], tls: null },
    { name: 'build-hook-1', endpoint: 'tcp://buildkitd-arm64.build.svc.cluster.local:1234', platforms: ['linux/arm64'], tls: null }
  ])
})

t.test('the arm64 node runs on arm64 machines and the first node on amd64 ones, with the same BuildKit and security settings', async t => {
  const arm64 = arm64Of('Deployment')
  t.same(arm64.spec.template.spec.nodeSelector, { 'kubernetes.io/arch': 'arm64' })
  const amd64Patch = documents(path.join(ARM64, 'buildkitd-amd64.yaml'))[0]!
  t.same({ kind: amd64Patch.kind, name: amd64Patch.metadata.name }, { kind: 'Deployment', name: 'buildkitd' })
  t.same(amd64Patch.spec.template.spec.nodeSelector, { 'kubernetes.io/arch': 'amd64' })
  t.same(arm64.spec.template.spec.containers, baseBuildkitd.spec.template.spec.containers, 'image, args, probes, securityContext, resources, mounts')
  t.same(arm64.spec.template.spec.volumes, baseBuildkitd.spec.template.spec.volumes)
  t.same(arm64.spec.selector.matchLabels, { 'app.kubernetes.io/name': 'buildkitd-arm64' }, 'the Service buildkitd selects none of its pods')
})

t.test('a NetworkPolicy admits the hook, and only the hook, to each buildkitd Service', async t => {
  const hookLabels = hook.spec.template.metadata.labels as Json
  const policies = [...documents(path.join(DEPLOY, 'buildkitd.yaml')), ...arm64Documents].filter(doc => doc.kind === 'NetworkPolicy')
  for (const [service, deployment] of [[find('buildkitd.yaml', 'Service', 'buildkitd'), baseBuildkitd], [arm64Of('Service'), arm64Of('Deployment')]] as const) {
    const podLabels = deployment.spec.template.metadata.labels as Json
    const covering = policies.filter(policy => Object.entries(policy.spec.podSelector.matchLabels as Json).every(([key, value]) => podLabels[key] === value))
    t.equal(covering.length, 1, `one NetworkPolicy selects the pods of ${service.metadata.name as string}`)
    t.same(covering[0]!.spec.policyTypes, ['Ingress'])
    t.same(covering[0]!.spec.ingress, [{ from: [{ podSelector: { matchLabels: { 'app.kubernetes.io/name': hookLabels['app.kubernetes.io/name'] } } }], ports: [{ port: service.spec.ports[0].port, protocol: 'TCP' }] }])
  }
})

t.test('the arm64 component removes BUILDKIT_HOST from the hook (it would stand for one endpoint)', async t => {
  const patch = documents(path.join(ARM64, 'build-hook-nodes.yaml'))[0]!
  t.same({ kind: patch.kind, name: patch.metadata.name }, { kind: 'Deployment', name: 'build-hook' })
  t.same(patch.spec.template.spec.containers, [{ name: container.name, env: [{ name: 'BUILDKIT_HOST', $patch: 'delete' }] }])
})

t.test('kubectl kustomize renders the base with the arm64 component', { skip: !hasKubectl && 'kubectl is not installed' }, async t => {
  const dir = t.testdir()
  cpSync(DEPLOY, path.join(dir, 'deploy'), { recursive: true })
  appendFileSync(path.join(dir, 'deploy', 'kustomization.yaml'), 'components:\n  - components/buildkitd-arm64\n')
  const rendered = parseAllDocuments(execFileSync('kubectl', ['kustomize', path.join(dir, 'deploy')], { encoding: 'utf8' })).map(doc => doc.toJS() as Json)
  const names = rendered.map(doc => `${doc.kind as string}/${doc.metadata.name as string}`)
  for (const name of ['Deployment/buildkitd-arm64', 'Service/buildkitd-arm64', 'NetworkPolicy/buildkitd-arm64', 'Deployment/buildkitd', 'Deployment/build-hook']) t.ok(names.includes(name), name)
  t.equal(rendered.filter(doc => doc.kind === 'ConfigMap').length, 1, 'one ConfigMap')
  const configMap = rendered.find(doc => doc.kind === 'ConfigMap')!
  t.equal(configMap.data['config.toml'], readFileSync(path.join(ARM64, 'config.toml'), 'utf8'), "the hook reads the component's config.toml")
  const deployment = rendered.find(doc => doc.kind === 'Deployment' && doc.metadata.name === 'build-hook')!
  const hookContainer = deployment.spec.template.spec.containers[0]
  t.equal(deployment.spec.template.spec.volumes.find((v: Json) => v.name === 'config').configMap.name, configMap.metadata.name, 'the hashed ConfigMap name is wired in')
  t.same(hookContainer.env.map((e: Json) => e.name), (container.env as Json[]).map(e => e.name).filter(name => name !== 'BUILDKIT_HOST'), 'BUILDKIT_HOST is gone, every other variable stays')
  const buildkitd = rendered.find(doc => doc.kind === 'Deployment' && doc.metadata.name === 'buildkitd')!
  t.same(buildkitd.spec.template.spec.nodeSelector, { 'kubernetes.io/arch': 'amd64' })
})
