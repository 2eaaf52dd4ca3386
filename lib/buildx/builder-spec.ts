import type { TlsSettings } from '../config/index.js'

/** The builder the config asks for. */
export interface DesiredBuilder {
  name: string
  endpoint: string
  tls: TlsSettings | null
}

/** One line of `docker buildx ls --format json` (the fields read here). */
export interface ListedBuilder {
  Name: string
  Driver?: string
  Nodes?: Array<{ Endpoint?: string, DriverOpts?: Record<string, string> | null }>
}

/** The remote driver's TLS options, as buildx names them. */
export function driverOpts (tls: TlsSettings | null): Record<string, string> {
  if (tls === null) return {}
  const opts: Record<string, string> = {}
  if (tls.ca !== null) opts.cacert = tls.ca
  if (tls.cert !== null) opts.cert = tls.cert
  if (tls.key !== null) opts.key = tls.key
  if (tls.serverName !== null) opts.servername = tls.serverName
  return opts
}

export function createArgv (builder: DesiredBuilder): string[] {
  const opts = Object.entries(driverOpts(builder.tls)).map(([key, value]) => `${key}=${value}`)
  return [
    'buildx', 'create', '--name', builder.name, '--driver', 'remote',
    ...(opts.length === 0 ? [] : ['--driver-opt', opts.join(',')]),
    builder.endpoint
  ]
}

/** Parses `buildx ls --format json`: one JSON object per line; lines that are not objects are skipped. */
export function parseBuilderList (lines: readonly string[]): ListedBuilder[] {
  const builders: ListedBuilder[] = []
  for (const line of lines) {
    try {
      const value: unknown = JSON.parse(line)
      if (typeof value === 'object' && value !== null && typeof (value as ListedBuilder).Name === 'string') builders.push(value as ListedBuilder)
    } catch { /* not a builder line */ }
  }
  return builders
}

function sameOpts (a: Record<string, string>, b: Record<string, string>): boolean {
  const keys = Object.keys(a)
  return keys.length === Object.keys(b).length && keys.every(key => a[key] === b[key])
}

/** Whether an existing builder is the one the config asks for: remote driver, same endpoint and TLS options. */
export function builderMatches (listed: ListedBuilder, desired: DesiredBuilder): boolean {
  const node = listed.Nodes?.[0]
  return listed.Driver === 'remote' &&
    listed.Nodes?.length === 1 &&
    node?.Endpoint === desired.endpoint &&
    sameOpts(node.DriverOpts ?? {}, driverOpts(desired.tls))
}
