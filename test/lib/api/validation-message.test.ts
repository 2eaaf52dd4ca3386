import t from 'tap'
import { describe, validationMessage, type SchemaValidationError } from '../../../lib/api/validation-message.js'

// The errors as Ajv 8 reports them with verbose: true (parentSchema: the schema object holding the keyword).

const LIST = {
  type: 'object',
  additionalProperties: false,
  properties: {
    project: { type: 'string', pattern: '^[a-z0-9][a-z0-9-]*$', maxLength: 63 },
    status: { enum: ['queued', 'running'] },
    limit: { type: 'integer', minimum: 1, maximum: 200, default: 50 },
    before: { type: 'integer', minimum: 1 }
  }
}
const err = (keyword: string, instancePath: string, params: Record<string, unknown>, parentSchema?: unknown, message?: string): SchemaValidationError =>
  ({ keyword, instancePath, params, parentSchema, ...(message === undefined ? {} : { message }) })

t.test('additionalProperties names the unknown parameter and the accepted ones', async t => {
  t.equal(validationMessage([err('additionalProperties', '', { additionalProperty: 'foo' }, LIST)], 'querystring'), "unknown query parameter 'foo' (accepted: project, status, limit, before)")
  t.equal(validationMessage([err('additionalProperties', '', { additionalProperty: 'x' }, { type: 'object', properties: {} })], 'body'), "unknown body field 'x' (accepted: none)")
  t.equal(validationMessage([err('additionalProperties', '/meta/0', { additionalProperty: 'y' }, { type: 'object', properties: { a: {} } })], 'body'), "unknown field 'y' in body field 'meta[0]' (accepted: a)")
  t.equal(validationMessage([err('additionalProperties', '', { additionalProperty: 'z' })], 'params'), "unknown path parameter 'z'", 'without verbose: no list')
})

t.test('type, minimum and maximum say the type and the range', async t => {
  const limit = LIST.properties.limit
  for (const keyword of ['type', 'minimum', 'maximum']) t.equal(validationMessage([err(keyword, '/limit', {}, limit)], 'querystring'), "query parameter 'limit' must be an integer from 1 to 200", keyword)
  t.equal(validationMessage([err('minimum', '/before', {}, LIST.properties.before)], 'querystring'), "query parameter 'before' must be an integer of 1 or more")
  t.equal(validationMessage([err('maximum', '/n', {}, { type: 'number', maximum: 9 })], 'querystring'), "query parameter 'n' must be a number of 9 or less")
  t.equal(validationMessage([err('exclusiveMinimum', '/n', {}, { type: 'number', exclusiveMinimum: 0, exclusiveMaximum: 1 })], 'body'), "body field 'n' must be a number greater than 0 less than 1")
  t.equal(validationMessage([err('type', '/follow', { type: 'boolean' }, { type: 'boolean' })], 'querystring'), "query parameter 'follow' must be true or false")
  t.equal(validationMessage([err('type', '', { type: 'object' }, { type: 'object' })], 'body'), 'the body must be an object')
  t.equal(validationMessage([err('type', '/list', { type: 'array' }, { type: 'array' })], 'body'), "body field 'list' must be an array")
})

t.test('enum and anyOf of literals list the accepted values; the combinator is what is reported', async t => {
  t.equal(validationMessage([err('enum', '/status', { allowedValues: ['queued', 'running'] }, LIST.properties.status)], 'querystring'), "query parameter 'status' must be one of queued, running")
  const anyOf = { anyOf: [{ const: 'cancelled' }, { const: 'cancelling' }] }
  const errors = [
    err('const', '/status', { allowedValue: 'cancelled' }, anyOf.anyOf[0]),
    err('const', '/status', { allowedValue: 'cancelling' }, anyOf.anyOf[1]),
    err('anyOf', '/status', {}, anyOf)
  ]
  t.equal(validationMessage(errors, 'querystring'), "query parameter 'status' must be one of cancelled, cancelling")
  t.equal(validationMessage([err('const', '/kind', { allowedValue: 'push' }, { const: 'push' })], 'body'), "body field 'kind' must be push")
  const nullable = { anyOf: [{ type: 'integer', minimum: 1 }, { type: 'null' }] }
  t.equal(validationMessage([err('type', '/id', {}, nullable.anyOf[0]), err('type', '/id', {}, nullable.anyOf[1]), err('anyOf', '/id', {}, nullable)], 'body'), "body field 'id' must be an integer of 1 or more or null")
  t.equal(validationMessage([err('oneOf', '/v', {}, { oneOf: [{ type: 'string' }, { type: 'boolean' }] })], 'headers'), "header 'v' must be a string or true or false")
})

t.test('pattern, maxLength and minLength describe the string accepted', async t => {
  const project = LIST.properties.project
  for (const keyword of ['pattern', 'maxLength']) t.equal(validationMessage([err(keyword, '/project', {}, project)], 'querystring'), "query parameter 'project' must be a string of at most 63 characters matching ^[a-z0-9][a-z0-9-]*$", keyword)
  t.equal(validationMessage([err('minLength', '/name', {}, { type: 'string', minLength: 1 })], 'body'), "body field 'name' must be a string of at least 1 character")
  t.equal(validationMessage([err('minLength', '/name', {}, { type: 'string', minLength: 3 })], 'body'), "body field 'name' must be a string of at least 3 characters")
  t.equal(validationMessage([err('maxLength', '/name', {}, { type: 'string', minLength: 1, maxLength: 8 })], 'body'), "body field 'name' must be a string of 1 to 8 characters")
  t.equal(validationMessage([err('format', '/at', {}, { type: 'string', format: 'date-time' })], 'body'), "body field 'at' must be a string in date-time format")
})

t.test('required names the missing parameter with its path', async t => {
  t.equal(validationMessage([err('required', '', { missingProperty: 'commit' }, {})], 'body'), "body field 'commit' is required")
  t.equal(validationMessage([err('required', '/image', { missingProperty: 'tag' }, {})], 'body'), "body field 'image.tag' is required")
  t.equal(validationMessage([err('required', '', { missingProperty: 'x-token' }, {})], 'headers'), "header 'x-token' is required")
})

t.test('a path segment with / or ~ is unescaped from its JSON pointer', async t => {
  t.equal(validationMessage([err('type', '/a~1b~0c', {}, { type: 'string' })], 'body'), "body field 'a/b~c' must be a string")
})

t.test("a schema it cannot describe falls back to Ajv's own words, still naming the parameter", async t => {
  t.equal(validationMessage([err('not', '/x', {}, { not: { type: 'string' } }, 'must NOT be valid')], 'querystring'), "query parameter 'x' must NOT be valid")
  t.equal(validationMessage([err('type', '/x', {}, undefined)], 'querystring'), "query parameter 'x' is not valid")
  t.equal(validationMessage([err('anyOf', '/x', {}, { anyOf: [{ type: 'string' }, { not: {} }] }, 'must match a schema in anyOf')], 'body'), "body field 'x' must match a schema in anyOf")
  t.equal(validationMessage([err('type', '/x', {}, { type: ['string', 'mystery'] }, 'must be string')], 'body'), "body field 'x' must be string")
  t.equal(validationMessage([], 'cookies'), 'the cookies is not valid')
  t.equal(validationMessage([err('type', '/c', {}, { type: 'string' })], 'cookies'), "cookies field 'c' must be a string")
})

t.test('describe: what each kind of schema accepts', async t => {
  t.equal(describe({ type: ['integer', 'null'], minimum: 0 }), 'an integer of 0 or more or null')
  t.equal(describe({ enum: ['only'] }), 'only')
  t.equal(describe({ const: null }), 'null')
  t.equal(describe('not a schema'), undefined)
  t.equal(describe({}), undefined)
})
