import { existsSync, readFileSync } from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { BuildHookError } from './errors.js'

/**
 * The version in the nearest package.json above the module at `moduleUrl` (its import.meta.url): the
 * sources and their compiled copies in dist/ sit at different depths below the same package.json.
 */
export function packageVersion (moduleUrl: string): string {
  let dir = path.dirname(fileURLToPath(moduleUrl))
  for (;;) {
    const file = path.join(dir, 'package.json')
    if (existsSync(file)) return (JSON.parse(readFileSync(file, 'utf8')) as { version: string }).version
    const parent = path.dirname(dir)
    if (parent === dir) throw new BuildHookError('BH_NO_PACKAGE_JSON', `No package.json above ${fileURLToPath(moduleUrl)}`)
    dir = parent
  }
}
