import { access, constants } from 'node:fs/promises'
import type { TlsSettings } from '../config/index.js'
import { declaredNodes, type DesiredBuilder } from './builder-spec.js'

const FILES = [['ca', 'CA certificate'], ['cert', 'client certificate'], ['key', 'client key']] as const

/**
 * The TLS files of the builder that cannot be read, one reason per node (keyed by node name; by the builder's name
 * for a single app.builder.endpoint). buildx reads them only when it dials BuildKit, and a file it cannot read
 * looks like an unreachable BuildKit: the node is listed `inactive` and `inspect --bootstrap` fails with
 * `context deadline exceeded` after 20 s, never naming the file (docs/buildx-facts.md). Read after a failed
 * bootstrap, so the reason names the file and the config key that sets it.
 */
export async function unreadableTlsFiles (builder: DesiredBuilder): Promise<Map<string, string>> {
  const nodes = declaredNodes(builder)
  const entries = nodes === null
    ? [{ name: builder.name, tls: builder.tls, at: 'app.builder.tls' }]
    : nodes.map((node, i) => ({ name: node.name, tls: node.tls, at: `app.builder.nodes[${i}].tls` }))
  const unreadable = new Map<string, string>()
  for (const { name, tls, at } of entries) {
    const reason = await firstUnreadable(tls, at)
    if (reason !== null) unreadable.set(name, reason)
  }
  return unreadable
}

async function firstUnreadable (tls: TlsSettings | null, at: string): Promise<string | null> {
  for (const [key, what] of FILES) {
    const file = tls?.[key] ?? null
    if (file === null) continue
    try {
      await access(file, constants.R_OK)
    } catch (err) {
      // "ENOENT: no such file or directory, access '/x'" → "no such file or directory"
      const cause = (err as Error).message.replace(/^[A-Z]+: /, '').replace(/, access .*$/s, '')
      return `cannot read the ${what} ${file} (${at}.${key}): ${cause}`
    }
  }
  return null
}
