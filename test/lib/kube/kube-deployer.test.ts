import t from 'tap'
import { KubeDeployer } from '../../../lib/kube/kube-deployer.js'

t.test('a kubeconfig that cannot be loaded fails the deploy with its message, before any API call', async t => {
  const deployer = new KubeDeployer({ kubeConfig: async () => { throw new Error('no kubeconfig: set KUBECONFIG or run in a pod') }, pollMs: 20 })
  const outcome = await deployer.deploy(
    { namespace: 'app', resources: [{ kind: 'deployment', name: 'web' }], strategy: 'restart', wait: false, timeoutSeconds: 30 },
    { signal: new AbortController().signal, onLine: () => {} }
  )
  t.same(outcome, { status: 'failed', error: 'no kubeconfig: set KUBECONFIG or run in a pod', changed: false })
})
