// How the CLI prints data for people: aligned columns with a header row, like `kubectl get`.

/** Columns as wide as their widest cell, three spaces apart; nothing is cut, the last column is not padded. */
export function formatTable (header: readonly string[], rows: ReadonlyArray<readonly string[]>): string {
  const widths = header.map((title, column) => Math.max(title.length, ...rows.map(row => row[column]!.length)))
  return [header, ...rows]
    .map(row => row.map((cell, column) => column === row.length - 1 ? cell : cell.padEnd(widths[column]!)).join('   ') + '\n')
    .join('')
}

/** A span of time as a person says it: 45s, 3m12s, 2h5m, 3d4h. */
export function formatDuration (ms: number): string {
  const seconds = Math.max(0, Math.floor(ms / 1000))
  if (seconds < 60) return `${seconds}s`
  const minutes = Math.floor(seconds / 60)
  if (minutes < 60) return `${minutes}m${seconds % 60}s`
  const hours = Math.floor(minutes / 60)
  if (hours < 24) return `${hours}h${minutes % 60}m`
  return `${Math.floor(hours / 24)}d${hours % 24}h`
}

/** How long ago an ISO time was, to the largest unit: 45s ago, 3m ago, 2h ago, 3d ago. */
export function formatAge (iso: string, now: number): string {
  return `${formatDuration(now - Date.parse(iso)).replace(/^(\d+[smhd]).*/, '$1')} ago`
}
