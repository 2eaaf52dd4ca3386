import { describeUnset, readConfig, unsetVariables, ConfigError } from '../config/index.js'
import type { CliIo } from './io.js'

/**
 * `build-hook check-config [FILE] [--skip-env]`: validates a config with the server's own code, and that the
 * environment has every variable it names (unless skipped: a config checked away from its server). 0 valid, 1 not.
 */
export function checkConfig (path: string | undefined, io: CliIo, options: { skipEnv?: boolean } = {}): number {
  const file = path ?? io.env.CONFIG_PATH ?? './config.toml'
  try {
    const settings = readConfig(file)
    const unset = options.skipEnv === true ? [] : unsetVariables(settings.variables, io.env)
    if (unset.length > 0) {
      const count = unset.length === 1 ? '1 environment variable it names is' : `${unset.length} environment variables it names are`
      io.stderr(`${settings.source}: valid, but ${count} not set here; the server does not start without them (what counts is the server's environment, not this one; --skip-env checks the file alone):\n${unset.map(variable => `  - ${describeUnset(variable)}\n`).join('')}`)
      return 1
    }
    const images = settings.projects.reduce((sum, project) => sum + project.images.length, 0)
    const projects = settings.projects.map(project => project.slug).join(', ')
    io.stdout(`${settings.source}: OK (${plural(settings.projects.length, 'project')}: ${projects}; ${plural(images, 'image')})\n`)
    return 0
  } catch (err) {
    // readConfig throws ConfigError and nothing else; a bug would still surface with its stack.
    io.stderr(`${(err as ConfigError).message}\n`)
    return 1
  }
}

function plural (count: number, noun: string): string {
  return `${count} ${noun}${count === 1 ? '' : 's'}`
}
