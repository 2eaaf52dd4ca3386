/** One Ajv error as Fastify hands it over; `parentSchema` is there when Ajv runs with `verbose: true`. */
export interface SchemaValidationError {
  keyword: string
  instancePath: string
  params: Record<string, unknown>
  message?: string
  /** The schema object holding the keyword that failed. */
  parentSchema?: unknown
}

type Schema = Record<string, unknown>

/** What a part of the request is called in a message, and what one of its entries is called. */
const PARTS: Readonly<Record<string, { whole: string, entry: string }>> = {
  querystring: { whole: 'the query string', entry: 'query parameter' },
  params: { whole: 'the path', entry: 'path parameter' },
  body: { whole: 'the body', entry: 'body field' },
  headers: { whole: 'the headers', entry: 'header' }
}

/**
 * One sentence for a request that failed its route's schema: the parameter at fault, by name, and what is
 * accepted there (e.g. `unknown query parameter 'foo' (accepted: project, status, limit, before)`,
 * `query parameter 'limit' must be an integer from 1 to 200`). Never repeats the value received.
 */
export function validationMessage (errors: readonly SchemaValidationError[], part: string): string {
  const { whole, entry } = PARTS[part] ?? { whole: `the ${part}`, entry: `${part} field` }
  const first = errors[0]
  if (first === undefined) return `${whole} is not valid`
  // anyOf and oneOf report each failed branch first and themselves last: the combinator says what is accepted.
  const error = errors.find(e => (e.keyword === 'anyOf' || e.keyword === 'oneOf') && first.instancePath.startsWith(e.instancePath)) ?? first
  const path = pathOf(error.instancePath)
  if (error.keyword === 'additionalProperties') {
    const name = shortened(String(error.params.additionalProperty))
    const properties = schemaObject(schemaObject(error.parentSchema)?.properties)
    const accepted = properties === undefined ? '' : ` (accepted: ${Object.keys(properties).join(', ') || 'none'})`
    return path === '' ? `unknown ${entry} '${name}'${accepted}` : `unknown field '${name}' in ${entry} '${path}'${accepted}`
  }
  if (error.keyword === 'required') return `${entry} '${join(path, String(error.params.missingProperty))}' is required`
  const subject = path === '' ? whole : `${entry} '${path}'`
  const expected = describe(error.parentSchema)
  return expected === undefined ? `${subject} ${error.message ?? 'is not valid'}` : `${subject} must be ${expected}`
}

/** A name the caller chose, repeated at most this long: an answer never grows with what was sent. */
const MAX_NAME = 64

function shortened (name: string): string {
  return name.length <= MAX_NAME ? name : `${name.slice(0, MAX_NAME)}…`
}

/** A JSON pointer (/items/0/name) as a path people read (items[0].name). */
function pathOf (pointer: string): string {
  return pointer.split('/').slice(1).map(segment => segment.replaceAll('~1', '/').replaceAll('~0', '~'))
    .reduce((path, segment) => /^\d+$/.test(segment) ? `${path}[${segment}]` : join(path, segment), '')
}

function join (path: string, name: string): string {
  return path === '' ? name : `${path}.${name}`
}

function schemaObject (value: unknown): Schema | undefined {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? value as Schema : undefined
}

/** What a schema accepts, as the end of "must be ...": "an integer from 1 to 200", "one of a, b". */
export function describe (value: unknown): string | undefined {
  const schema = schemaObject(value)
  if (schema === undefined) return undefined
  if ('const' in schema) return String(schema.const)
  if (Array.isArray(schema.enum)) return oneOf(schema.enum.map(String))
  const branches = Array.isArray(schema.anyOf) ? schema.anyOf : Array.isArray(schema.oneOf) ? schema.oneOf : undefined
  if (branches !== undefined) {
    const literals = branches.map(schemaObject)
    if (literals.every(branch => branch !== undefined && 'const' in branch)) return oneOf(literals.map(branch => String(branch!.const)))
    const described = branches.map(describe)
    return described.every(text => text !== undefined) ? described.join(' or ') : undefined
  }
  if (Array.isArray(schema.type)) {
    const described = schema.type.map(type => describe({ ...schema, type }))
    return described.every(text => text !== undefined) ? described.join(' or ') : undefined
  }
  switch (schema.type) {
    case 'integer': return withRange('an integer', schema)
    case 'number': return withRange('a number', schema)
    case 'boolean': return 'true or false'
    case 'string': return aString(schema)
    case 'object': return 'an object'
    case 'array': return 'an array'
    case 'null': return 'null'
    default: return undefined
  }
}

function oneOf (values: string[]): string {
  return values.length === 1 ? values[0]! : `one of ${values.join(', ')}`
}

function withRange (noun: string, schema: Schema): string {
  const { minimum, maximum, exclusiveMinimum, exclusiveMaximum } = schema
  const bounds: string[] = []
  if (typeof minimum === 'number' && typeof maximum === 'number') bounds.push(`from ${minimum} to ${maximum}`)
  else if (typeof minimum === 'number') bounds.push(`of ${minimum} or more`)
  else if (typeof maximum === 'number') bounds.push(`of ${maximum} or less`)
  if (typeof exclusiveMinimum === 'number') bounds.push(`greater than ${exclusiveMinimum}`)
  if (typeof exclusiveMaximum === 'number') bounds.push(`less than ${exclusiveMaximum}`)
  return [noun, ...bounds].join(' ')
}

function aString (schema: Schema): string {
  const { minLength, maxLength, pattern, format } = schema
  const parts = ['a string']
  if (typeof minLength === 'number' && typeof maxLength === 'number') parts.push(`of ${minLength} to ${maxLength} characters`)
  else if (typeof minLength === 'number') parts.push(`of at least ${minLength} character${minLength === 1 ? '' : 's'}`)
  else if (typeof maxLength === 'number') parts.push(`of at most ${maxLength} characters`)
  if (typeof pattern === 'string') parts.push(`matching ${pattern}`)
  if (typeof format === 'string') parts.push(`in ${format} format`)
  return parts.join(' ')
}
