import { Ajv, type ErrorObject } from 'ajv'
import { ConfigFileSchema } from './schema.js'
import { joinPath, type Problem } from './problems.js'
import { distance } from 'fastest-levenshtein'

// Ajv, which Fastify and @fastify/env load anyway, rather than typebox/compile: the same checks of the same
// schema, without loading TypeBox's compiler (about 180 ms and 9 MB at every start). allErrors: every problem
// of the operator's own file at once. strict: false: TypeBox's own annotations are not keywords. The schema
// is this code's own (checked against the meta-schema in test/lib/config/schema.test.ts), so it is not
// checked again at every start, and its code is not optimised for a validation run once: 75 ms -> 30 ms.
export const CONFIG_VALIDATOR_OPTIONS = { allErrors: true, strict: false, validateSchema: false, code: { optimize: false } } as const
const validator = new Ajv(CONFIG_VALIDATOR_OPTIONS).compile(ConfigFileSchema)

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
  if (validator(raw)) return []
  const problems: Problem[] = []
  for (const error of validator.errors!) {
    const at = tomlPath(raw, error.instancePath)
    const params = error.params as Record<string, unknown>
    switch (error.keyword) {
      case 'additionalProperties': {
        const key = String(params.additionalProperty)
        problems.push({ path: joinPath(at, key), message: unknownKeyMessage(key, allowedKeys(error)) })
        break
      }
      case 'required':
        problems.push({ path: joinPath(at, String(params.missingProperty)), message: 'is required' })
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
        problems.push({ path: at, message: error.message ?? error.keyword })
    }
  }
  return problems
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

/** The keys the table of an additionalProperties error allows: its schema's properties. */
function allowedKeys (error: ErrorObject): string[] {
  let node: unknown = ConfigFileSchema
  // '#/properties/app/additionalProperties': the table's schema is the path without its last segment.
  for (const segment of error.schemaPath.split('/').slice(1, -1)) node = (node as Record<string, unknown>)[segment]
  return Object.keys((node as { properties: object }).properties)
}

function unknownKeyMessage (key: string, allowed: readonly string[]): string {
  const close = allowed.find(candidate => distance(key.toLowerCase(), candidate) <= 2)
  return close === undefined
    ? `unknown key (allowed: ${allowed.join(', ')})`
    : `unknown key (did you mean '${close}'?)`
}
