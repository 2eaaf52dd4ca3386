import { readFileSync } from 'node:fs'
import path from 'node:path'
import TOML from '@iarna/toml'
import { BuildHookError } from '../errors.js'
import { formatProblems, sortProblems, type Problem } from './problems.js'
import { schemaProblems } from './schema-problems.js'
import { semanticProblems } from './semantic-problems.js'
import { normalise, type SettingsOverrides } from './normalise.js'
import { checkEndpoint } from './rules.js'
import { describeUnset, unsetProblem, unsetVariables } from './named-variables.js'
import { decodeToml, explainTomlError } from './toml-errors.js'
import type { ConfigFile } from './schema.js'
import type { Settings } from './settings.js'

export class ConfigError extends BuildHookError {
  readonly problems: readonly Problem[]

  constructor (code: string, message: string, problems: readonly Problem[] = []) {
    super(code, message)
    this.name = 'ConfigError'
    this.problems = problems
  }
}

/** Reads, parses and validates a config file; throws one ConfigError listing every problem. */
export function readConfig (file: string, overrides: SettingsOverrides = {}): Settings {
  const source = path.resolve(file)
  let bytes: Buffer
  try {
    bytes = readFileSync(source)
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code
    if (code === 'ENOENT') {
      throw new ConfigError('BH_CONFIG_NOT_FOUND', `Configuration file not found: ${source} (set CONFIG_PATH to its location)`)
    }
    throw new ConfigError('BH_CONFIG_UNREADABLE', `Cannot read configuration file ${source}: ${String(code)}`)
  }
  const decoded = decodeToml(bytes)
  if (!decoded.ok) {
    const byte = `0x${decoded.byte.toString(16).toUpperCase().padStart(2, '0')}`
    throw new ConfigError('BH_CONFIG_SYNTAX', `TOML syntax error in ${source}:${decoded.line}:${decoded.column}: invalid UTF-8 byte ${byte} (a TOML file must be UTF-8; this one may have been saved as Latin-1 or Windows-1252: save it again as UTF-8)\n${decoded.excerpt}`)
  }
  return parseConfig(decoded.text, source, overrides)
}

export function parseConfig (text: string, source: string, overrides: SettingsOverrides = {}): Settings {
  checkOverrides(overrides)
  const raw = parseToml(text, source)
  const problems = sortProblems([...schemaProblems(raw), ...semanticProblems(raw)])
  if (problems.length > 0) {
    const count = problems.length === 1 ? '1 problem' : `${problems.length} problems`
    throw new ConfigError('BH_CONFIG_INVALID', `Invalid configuration in ${source} (${count}):\n${formatProblems(problems)}`, problems)
  }
  const file = raw as ConfigFile
  if (overrides.builderEndpoint !== undefined && file.app.builder?.nodes !== undefined) {
    // Which of several nodes it would replace is anyone's guess: refused rather than guessed.
    const message = `replaces app.builder.endpoint only; ${source} sets app.builder.nodes instead: unset BUILDKIT_HOST`
    throw new ConfigError('BH_ENV_INVALID', `Invalid environment: BUILDKIT_HOST ${message}`, [{ path: 'BUILDKIT_HOST', message }])
  }
  return normalise(file, source, overrides)
}

/**
 * Stops start-up when a variable the config names (a webhook secret, a Git, status or notify token) is unset
 * or empty: one message, each variable once, with every key that names it.
 */
export function requireNamedVariables (settings: Settings, env: Readonly<Record<string, string | undefined>>): void {
  const unset = unsetVariables(settings.variables, env)
  if (unset.length === 0) return
  const count = unset.length === 1 ? '1 variable' : `${unset.length} variables`
  throw new ConfigError(
    'BH_CONFIG_ENV_MISSING',
    `Environment variables named in ${settings.source} are not set (${count}):\n${unset.map(variable => `  - ${describeUnset(variable)}`).join('\n')}`,
    unset.map(variable => ({ path: variable.name, message: unsetProblem(variable) }))
  )
}

/** The environment's replacements for config keys get the same rules as the keys (as @fastify/env, before the file). */
function checkOverrides (overrides: SettingsOverrides): void {
  const endpoint = overrides.builderEndpoint === undefined ? null : checkEndpoint(overrides.builderEndpoint)
  if (endpoint !== null) {
    throw new ConfigError('BH_ENV_INVALID', `Invalid environment: BUILDKIT_HOST ${endpoint} (it replaces app.builder.endpoint)`, [{ path: 'BUILDKIT_HOST', message: endpoint }])
  }
}

function parseToml (text: string, source: string): unknown {
  try {
    return TOML.parse(text)
  } catch (err) {
    const { line, column, reason, excerpt } = explainTomlError(err as { message: string, pos: number }, text)
    throw new ConfigError('BH_CONFIG_SYNTAX', `TOML syntax error in ${source}:${line}:${column}: ${reason}\n${excerpt}`)
  }
}
