import { EventEmitter } from 'node:events'
import t from 'tap'
import type { SentEvent } from '../../lib/reports/report-sender.js'
import { newBuild } from '../../lib/builds/new-build.js'
import { parseConfig } from '../../lib/config/index.js'
import { BuildMetrics } from '../../lib/metrics/build-metrics.js'
import { BuildStore } from '../../lib/store/build-store.js'
import { configToml, tempDir } from '../helper.js'

t.test('builds of projects or images no longer in the config add no series', async t => {
  const store = new BuildStore(tempDir(t))
  t.teardown(() => store.close())
  const [kept, gone] = parseConfig(configToml([{ slug: 'kept', images: ['web', 'old'] }, { slug: 'gone' }]), 'test.toml').projects
  const reports = new EventEmitter<{ sent: [SentEvent] }>()
  const metrics = new BuildMetrics({ projects: ['kept'], repositories: new Map([['kept', ['kept/web']]]), store, builderReady: () => true, reports })
  t.teardown(() => metrics.close())
  reports.emit('sent', { buildId: 1, project: 'kept', kind: 'status', outcome: 'delivered' })
  reports.emit('sent', { buildId: 2, project: 'gone', kind: 'status', outcome: 'delivered' })
  for (const project of [kept!, gone!]) {
    const { build } = store.record(newBuild(project, { source: 'api', event: 'trigger', delivery: null, ref: 'refs/heads/main', commit: 'a'.repeat(40), sender: null }))
    store.start(build.id)
    build.images.forEach((_image, i) => store.updateImage(build.id, i, { status: 'succeeded', durationMs: 1500 }))
    store.finish(build.id, 'succeeded', null)
  }
  const text = await metrics.text()
  t.notMatch(text, 'project="gone"')
  t.match(text, 'build_hook_image_build_duration_seconds_count{project="kept",repository="kept/web",status="succeeded"} 1')
  t.notMatch(text, 'repository="kept/old"')
  t.match(text, 'build_hook_builds_total{project="kept",status="succeeded"} 1')
  t.match(text, 'build_hook_reports_total{project="kept",kind="status",outcome="delivered"} 1')
  t.match(text, 'build_hook_reports_pending{project="kept",kind="notify"} 0')
})
