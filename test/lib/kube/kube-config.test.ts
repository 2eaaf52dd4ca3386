import { mkdirSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import t from 'tap'
import { loadKubeConfig } from '../../../lib/kube/kube-config.js'
import { tempDir } from '../../helper.js'

const kubeconfig = (server: string) => `apiVersion: v1\nkind: Config\nclusters:\n- name: c\n  cluster:\n    server: ${server}\ncontexts:\n- name: c\n  context:\n    cluster: c\n    user: u\ncurrent-context: c\nusers:\n- name: u\n  user:\n    token: t0k3n\n`

t.test('KUBECONFIG first, then ~/.kube/config; nothing at all is an error saying what to set', async t => {
  const dir = tempDir(t)
  const file = path.join(dir, 'kubeconfig')
  writeFileSync(file, kubeconfig('https://from-env:6443'))
  t.equal((await loadKubeConfig({ KUBECONFIG: file, HOME: dir })).getCurrentCluster()?.server, 'https://from-env:6443')
  mkdirSync(path.join(dir, '.kube'))
  writeFileSync(path.join(dir, '.kube', 'config'), kubeconfig('https://from-home:6443'))
  t.equal((await loadKubeConfig({ HOME: dir })).getCurrentCluster()?.server, 'https://from-home:6443')
  t.equal((await loadKubeConfig({ KUBECONFIG: '', HOME: dir })).getCurrentCluster()?.server, 'https://from-home:6443', 'an empty KUBECONFIG is unset')
  await t.rejects(loadKubeConfig({ HOME: tempDir(t) }), { code: 'BH_KUBE_CONFIG', message: 'no Kubernetes configuration: set KUBECONFIG, or run the hook in a pod with a service account' })
  await t.rejects(loadKubeConfig({}), { code: 'BH_KUBE_CONFIG' })
})

t.test('a kubeconfig that cannot be read, or a pod without its service account, is a clear error', async t => {
  await t.rejects(loadKubeConfig({ KUBECONFIG: '/nonexistent/kubeconfig' }), { code: 'BH_KUBE_CONFIG', message: /^cannot read the Kubernetes configuration: ENOENT/ })
})

t.test("in a pod: the service's address from the environment, with the service account's CA and token files", async t => {
  const kubeConfig = await loadKubeConfig({ KUBERNETES_SERVICE_HOST: '10.96.0.1', KUBERNETES_SERVICE_PORT: '443', KUBECONFIG: undefined })
  t.match(kubeConfig.getCurrentCluster(), { server: 'https://10.96.0.1:443', caFile: '/var/run/secrets/kubernetes.io/serviceaccount/ca.crt', skipTLSVerify: false })
  t.match(kubeConfig.getCurrentUser(), { authProvider: { name: 'tokenFile', config: { tokenFile: '/var/run/secrets/kubernetes.io/serviceaccount/token' } } })
  t.equal((await loadKubeConfig({ KUBERNETES_SERVICE_HOST: 'fd00::1' })).getCurrentCluster()?.server, 'https://[fd00::1]:443')
})
