import type { TLocalizedValidationError } from 'typebox/error'
import { Compile } from 'typebox/compile'
import { Settings } from 'typebox/system'
import { ConfigFileSchema } from './schema.js'
import { joinPath, type Problem } from './problems.js'

const validator = Compile(ConfigFileSchema)

const TYPE_NAMES: Readonly<Record<string, string | undefined>> = {
  string: 'a string',
  integer: 'an integer',
  number: 'a number',
  boolean: 'true or false',
  array: 'an array',
  object: 'a table'
}

/** Structural problems (missing keys, wrong types, unknown keys) with TOML paths. */
export function schemaProblems (raw: unknown): Problem[] {
  if (validator.Check(raw)) return []
  const problems: Problem[] = []
  for (const error of everyError(raw)) {
    const at = tomlPath(raw, error.instancePath)
    const params = error.params as Record<string, unknown>
    switch (error.keyword) {
      case 'boolean': // the per-key twin of an additionalProperties error, reported there
        break
      case 'additionalProperties': {
        const allowed = allowedKeys(error)
        for (const key of params.additionalProperties as string[]) {
          problems.push({ path: joinPath(at, key), message: unknownKeyMessage(key, allowed) })
        }
        break
      }
      case 'required':
        for (const key of params.requiredProperties as string[]) problems.push({ path: joinPath(at, key), message: 'is required' })
        break
      case 'type': {
        const type = String(params.type)
        /* c8 ignore next -- every type the schema uses is named above; a new one still reads sensibly */
        problems.push({ path: at, message: `must be ${TYPE_NAMES[type] ?? type}` })
        break
      }
      case 'minLength':
        problems.push({ path: at, message: 'must not be empty' })
        break
      case 'minItems': // every list the schema bounds needs one entry
        problems.push({ path: at, message: 'must have at least one entry' })
        break
      case 'minimum':
        problems.push({ path: at, message: `must be at least ${String(params.limit)}` })
        break
      case 'maximum':
        problems.push({ path: at, message: `must be at most ${String(params.limit)}` })
        break
      case 'enum':
        problems.push({ path: at, message: `must be one of ${(params.allowedValues as unknown[]).map(v => `'${String(v)}'`).join(', ')}` })
        break
      /* c8 ignore next 2 -- every keyword the schema uses is handled above; this keeps a new one readable */
      default:
        problems.push({ path: at, message: error.message })
    }
  }
  return problems
}

/**
 * Every error: typebox stops at Settings.maxErrors (8 by default, a guard for untrusted input), which would
 * drop most projects' problems. The config is the operator's own file; the limit is restored at once.
 */
function everyError (raw: unknown): TLocalizedValidationError[] {
  const limit = Settings.Get().maxErrors
  Settings.Set({ maxErrors: Number.MAX_SAFE_INTEGER })
  try {
    return validator.Errors(raw)
  } finally {
    Settings.Set({ maxErrors: limit })
  }
}

/** Turns a JSON pointer into a TOML path, using the data to tell array indexes from keys. */
function tomlPath (raw: unknown, pointer: string): string {
  let at = ''
  let node: unknown = raw
  for (const segment of pointer.split('/').slice(1)) {
    const key = segment.replace(/~1/g, '/').replace(/~0/g, '~')
    if (Array.isArray(node)) {
      at = joinPath(at, Number(key))
      node = node[Number(key)]
    } else {
      at = joinPath(at, key)
      node = (node as Record<string, unknown>)[key]
    }
  }
  return at
}

function allowedKeys (error: TLocalizedValidationError): string[] {
  let node: unknown = ConfigFileSchema
  for (const segment of error.schemaPath.split('/').slice(1)) node = (node as Record<string, unknown>)[segment]
  return Object.keys((node as { properties: object }).properties)
}

function unknownKeyMessage (key: string, allowed: readonly string[]): string {
  const close = allowed.find(candidate => editDistance(key.toLowerCase(), candidate) <= 2)
  return close === undefined
    ? `unknown key (allowed: ${allowed.join(', ')})`
    : `unknown key (did you mean '${close}'?)`
}

function editDistance (a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j)
  for (let i = 1; i <= a.length; i++) {
    const current = [i]
    for (let j = 1; j <= b.length; j++) {
      const substitution = previous[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1)
      current[j] = Math.min(previous[j]! + 1, current[j - 1]! + 1, substitution)
    }
    previous = current
  }
  return previous[b.length]!
}
