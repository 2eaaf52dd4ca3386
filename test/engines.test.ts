import { readFileSync } from 'node:fs'
import path from 'node:path'
import semver from 'semver'
import t from 'tap'
import { ROOT } from './helper.js'

interface LockEntry { engines?: { node?: string } | string[], dev?: boolean }

const manifest = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { engines: { node: string } }
const lock = JSON.parse(readFileSync(path.join(ROOT, 'package-lock.json'), 'utf8')) as { packages: Record<string, LockEntry> }

/** The packages of the lockfile (what `npm ci` installs) whose `engines.node` excludes `version`. */
function excluding (version: string): string[] {
  return Object.entries(lock.packages).flatMap(([where, entry]) => {
    const range = Array.isArray(entry.engines) ? undefined : entry.engines?.node
    return where !== '' && range !== undefined && !semver.satisfies(version, range) ? [`${where.replace(/^.*node_modules\//, '')} (node ${range})`] : []
  })
}

t.test("every installed package runs on the oldest Node that package.json's engines allows", async t => {
  const oldest = semver.minVersion(manifest.engines.node)!.version
  t.equal(oldest, '20.20.2')
  t.same(excluding(oldest), [], `npm ci on Node ${oldest} would print EBADENGINE for these`)
})

t.test('and on the Node running the tests, when engines allows it', { skip: !semver.satisfies(process.version, manifest.engines.node) && `Node ${process.version} is outside engines` }, async t => {
  t.same(excluding(process.version), [])
})
