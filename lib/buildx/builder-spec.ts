import type { BuilderNode, TlsSettings } from '../config/index.js'

/** The builder the config asks for. */
export interface DesiredBuilder {
  name: string
  /** The single endpoint's (or the first node's) endpoint and TLS options. */
  endpoint: string
  tls: TlsSettings | null
  /** [[app.builder.nodes]]; omitted, or one node without platforms: a single app.builder.endpoint. */
  nodes?: readonly BuilderNode[]
}

/** One node of a listed builder (the fields read here). */
export interface ListedNode {
  Name?: string
  Endpoint?: string
  DriverOpts?: Record<string, string> | null
  Status?: string
  /** os/arch[/variant] strings (buildx v0.28 builder/node.go MarshalJSON): the configured ones, also while the node is down, then what a running BuildKit offers. */
  Platforms?: string[] | null
}

/** One line of `docker buildx ls --format json` (the fields read here). */
export interface ListedBuilder {
  Name: string
  Driver?: string
  Nodes?: ListedNode[]
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

/** The nodes declared with [[app.builder.nodes]]; null for a single app.builder.endpoint. */
export function declaredNodes (builder: DesiredBuilder): readonly BuilderNode[] | null {
  const nodes = builder.nodes ?? []
  return nodes.length === 0 || nodes[0]!.platforms.length === 0 ? null : nodes
}

/**
 * Where the builder's BuildKit is, for a build's messages: the endpoint, or every node's when there are several
 * (a build's error does not say which node it lost; the builder's own state then names it).
 */
export function builderEndpoints (builder: DesiredBuilder): string {
  const nodes = declaredNodes(builder)
  return nodes === null ? builder.endpoint : `one of ${nodes.map(node => `${node.name} (${node.endpoint})`).join(', ')}`
}

function optsArgs (tls: TlsSettings | null): string[] {
  const opts = Object.entries(driverOpts(tls)).map(([key, value]) => `${key}=${value}`)
  return opts.length === 0 ? [] : ['--driver-opt', opts.join(',')]
}

/** A single endpoint's `buildx create`. */
export function createArgv (builder: DesiredBuilder): string[] {
  return ['buildx', 'create', '--name', builder.name, '--driver', 'remote', ...optsArgs(builder.tls), builder.endpoint]
}

/** Every `buildx create` that makes the builder: the first node creates it, each next one is appended. */
export function createArgvs (builder: DesiredBuilder): string[][] {
  const nodes = declaredNodes(builder)
  if (nodes === null) return [createArgv(builder)]
  return nodes.map((node, i) => [
    'buildx', 'create', '--name', builder.name, ...(i === 0 ? ['--driver', 'remote'] : ['--append']),
    '--node', node.name, '--platform', node.platforms.join(','), ...optsArgs(node.tls), node.endpoint
  ])
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

/**
 * A listed node must have every configured platform (normalized alike: lib/config/platform.ts). buildx lists the
 * node's configured platforms followed, while its BuildKit runs, by what that BuildKit offers, so a platform
 * removed from a node can go unnoticed (README: Several nodes).
 */
function offersPlatforms (listed: ListedNode, node: BuilderNode): boolean {
  const offered = new Set(listed.Platforms ?? [])
  return node.platforms.every(platform => offered.has(platform))
}

/** Whether an existing builder is the one the config asks for: remote driver, same nodes, endpoints, platforms and TLS options. */
export function builderMatches (listed: ListedBuilder, desired: DesiredBuilder): boolean {
  const nodes = declaredNodes(desired)
  if (nodes === null) {
    const node = listed.Nodes?.[0]
    // buildx names a node created without --node `<builder>0`; any other name is a node of a nodes config.
    return listed.Driver === 'remote' &&
      listed.Nodes?.length === 1 &&
      node?.Name === `${desired.name}0` &&
      node.Endpoint === desired.endpoint &&
      sameOpts(node.DriverOpts ?? {}, driverOpts(desired.tls))
  }
  const listedNodes = listed.Nodes ?? []
  return listed.Driver === 'remote' &&
    listedNodes.length === nodes.length &&
    nodes.every((node, i) => {
      const found = listedNodes[i]!
      return found.Name === node.name && found.Endpoint === node.endpoint &&
        sameOpts(found.DriverOpts ?? {}, driverOpts(node.tls)) && offersPlatforms(found, node)
    })
}
