import t from 'tap'
import { rolloutStatus } from '../../../lib/kube/rollout-status.js'

const meta = (generation: number) => ({ name: 'x', generation })

t.test('deployment: the order in which kubectl rollout status checks', async t => {
  t.same(rolloutStatus('deployment', { metadata: meta(2), status: { observedGeneration: 1 } }), { state: 'waiting', message: 'Waiting for deployment spec update to be observed...' })
  t.same(rolloutStatus('deployment', { metadata: meta(2), status: { observedGeneration: 2, conditions: [{ type: 'Available' }, { type: 'Progressing', reason: 'ProgressDeadlineExceeded' }] } }), { state: 'failed', message: 'deployment "x" exceeded its progress deadline' })
  t.same(rolloutStatus('deployment', { metadata: meta(1), spec: {}, status: { observedGeneration: 1 } }).message, 'Waiting for deployment "x" rollout to finish: 0 out of 1 new replicas have been updated...', 'replicas default to 1')
  t.same(rolloutStatus('deployment', { metadata: meta(1), spec: { replicas: 2 }, status: { observedGeneration: 1, replicas: 3, updatedReplicas: 2 } }).message, 'Waiting for deployment "x" rollout to finish: 1 old replicas are pending termination...')
  t.same(rolloutStatus('deployment', { metadata: meta(1), spec: { replicas: 2 }, status: { observedGeneration: 1, replicas: 2, updatedReplicas: 2, availableReplicas: 1 } }).message, 'Waiting for deployment "x" rollout to finish: 1 of 2 updated replicas are available...')
  t.same(rolloutStatus('deployment', { metadata: meta(1), spec: { replicas: 0 }, status: { observedGeneration: 1 } }), { state: 'done', message: 'deployment "x" successfully rolled out' }, 'scaled to zero is done')
  t.equal(rolloutStatus('deployment', {}).state, 'waiting', 'an object without metadata or status waits')
})

t.test('statefulset: RollingUpdate only, observed, ready, partition, revisions', async t => {
  t.same(rolloutStatus('statefulset', { spec: { updateStrategy: { type: 'OnDelete' } } }), { state: 'failed', message: 'rollout status is only available for RollingUpdate strategy type (this statefulset uses OnDelete)' })
  t.equal(rolloutStatus('statefulset', { metadata: meta(1), status: {} }).message, 'Waiting for statefulset spec update to be observed...', 'observedGeneration 0')
  t.equal(rolloutStatus('statefulset', { status: { observedGeneration: 1 } }).message, 'Waiting for 1 pods to be ready...', 'no metadata: generation 0')
  t.equal(rolloutStatus('statefulset', { metadata: meta(1), spec: { replicas: 3 }, status: { observedGeneration: 1, readyReplicas: 1 } }).message, 'Waiting for 2 pods to be ready...')
  t.equal(rolloutStatus('statefulset', { metadata: meta(1), spec: {}, status: { observedGeneration: 1 } }).message, 'Waiting for 1 pods to be ready...')
  const partitioned = { metadata: meta(1), spec: { replicas: 4, updateStrategy: { type: 'RollingUpdate', rollingUpdate: { partition: 2 } } } }
  t.same(rolloutStatus('statefulset', { ...partitioned, status: { observedGeneration: 1, readyReplicas: 4, updatedReplicas: 1 } }), { state: 'waiting', message: 'Waiting for partitioned roll out to finish: 1 out of 2 new pods have been updated...' })
  t.same(rolloutStatus('statefulset', { ...partitioned, status: { observedGeneration: 1, readyReplicas: 4 } }).message, 'Waiting for partitioned roll out to finish: 0 out of 2 new pods have been updated...')
  t.same(rolloutStatus('statefulset', { ...partitioned, status: { observedGeneration: 1, readyReplicas: 4, updatedReplicas: 2 } }), { state: 'done', message: 'partitioned roll out complete: 2 new pods have been updated...' })
  t.equal(rolloutStatus('statefulset', { metadata: meta(1), spec: { replicas: 1 }, status: { observedGeneration: 1, readyReplicas: 1, currentRevision: 'x-1', updateRevision: 'x-2' } }).message, 'waiting for statefulset rolling update to complete 0 pods at revision x-2...')
})

t.test('daemonset: RollingUpdate only, observed, updated, available', async t => {
  t.equal(rolloutStatus('daemonset', { spec: { updateStrategy: { type: 'OnDelete' } } }).state, 'failed')
  t.equal(rolloutStatus('daemonset', { metadata: meta(2), status: { observedGeneration: 1 } }).message, 'Waiting for daemon set spec update to be observed...')
  t.equal(rolloutStatus('daemonset', { metadata: meta(1), status: { observedGeneration: 1, desiredNumberScheduled: 2 } }).message, 'Waiting for daemon set "x" rollout to finish: 0 out of 2 new pods have been updated...')
  t.equal(rolloutStatus('daemonset', { metadata: meta(1), status: { observedGeneration: 1, desiredNumberScheduled: 2, updatedNumberScheduled: 2 } }).message, 'Waiting for daemon set "x" rollout to finish: 0 of 2 updated pods are available...')
  t.same(rolloutStatus('daemonset', {}), { state: 'done', message: 'daemon set "undefined" successfully rolled out' }, 'nothing scheduled is done')
})
