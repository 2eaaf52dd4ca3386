import t from 'tap'
import { formatAge, formatDuration, formatTable } from '../../lib/cli/table.js'

t.test('a table aligns its columns to their widest cell, three spaces apart, without padding the last', async t => {
  t.equal(formatTable(['ID', 'STATUS', 'ERROR'], [['1234', 'failed', 'boom'], ['7', 'succeeded', '-']]), 'ID     STATUS      ERROR\n1234   failed      boom\n7      succeeded   -\n')
})

t.test('a table with no rows is its header', async t => {
  t.equal(formatTable(['ID', 'STATUS'], []), 'ID   STATUS\n')
})

t.test('durations are said in their two largest units', async t => {
  t.same([0, 999, 45_000, 192_000, 7_500_000, 273_600_000, -5].map(formatDuration), ['0s', '0s', '45s', '3m12s', '2h5m', '3d4h', '0s'])
})

t.test('ages are said in their largest unit', async t => {
  const now = Date.parse('2026-11-25T12:00:00.000Z')
  t.same(['2026-11-25T11:59:15.000Z', '2026-11-25T11:56:48.000Z', '2026-11-25T09:55:00.000Z', '2026-11-22T08:00:00.000Z'].map(iso => formatAge(iso, now)), ['45s ago', '3m ago', '2h ago', '3d ago'])
})
