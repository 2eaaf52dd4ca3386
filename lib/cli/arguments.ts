import { BUILD_STATUSES, type BuildStatus } from '../schemas/build.js'
import { CliError, EXIT } from './cli-error.js'

// Every value is checked here, before any request: a bad one is a usage error naming what is expected.

/** Output formats of the commands that print data (`-o`). */
export const OUTPUT_FORMATS = ['table', 'json'] as const
export type OutputFormat = typeof OUTPUT_FORMATS[number]

/** The limit of `GET /builds` (the server's range). */
export const MAX_LIMIT = 200

function invalid (what: string, value: string, expected: string): CliError {
  return new CliError(`invalid ${what} '${value}': ${expected}`, EXIT.usage)
}

/** A positive integer of at most 16 digits that is exact in a double: what a build id can be. */
function positiveInteger (value: string): number | undefined {
  const number = Number(value)
  return /^[1-9]\d{0,15}$/.test(value) && Number.isSafeInteger(number) ? number : undefined
}

export function parseBuildId (value: string): number {
  const id = positiveInteger(value)
  if (id === undefined) throw invalid('build id', value, `a positive integer of at most ${Number.MAX_SAFE_INTEGER}`)
  return id
}

export function parseLimit (value: string): number {
  const limit = positiveInteger(value)
  if (limit === undefined || limit > MAX_LIMIT) throw invalid('limit', value, `an integer from 1 to ${MAX_LIMIT}`)
  return limit
}

/** A parser that accepts one of `values` (the values shell completion offers too). */
export function parseChoice<T extends string> (what: string, values: readonly T[]): (value: string) => T {
  return value => {
    const choice = values.find(choice => choice === value)
    if (choice === undefined) throw invalid(what, value, values.length === 1 ? values[0]! : `one of ${values.join(', ')}`)
    return choice
  }
}

export const parseStatus = parseChoice<BuildStatus>('status', BUILD_STATUSES)

/** A full commit SHA, sent in lowercase (the server accepts either case). */
export function parseCommit (value: string): string {
  if (!/^[0-9a-f]{40}$/i.test(value)) throw invalid('commit', value, 'a full commit SHA (40 hex digits)')
  return value.toLowerCase()
}

export function parseSlug (value: string): string {
  if (!/^[a-z0-9][a-z0-9-]*$/.test(value)) throw invalid('project', value, "a project's slug (lowercase letters, digits and '-', e.g. my-app)")
  return value
}
