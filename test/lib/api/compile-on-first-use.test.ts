import t from 'tap'
import { AjvCompiler } from '@fastify/ajv-compiler'
import { SerializerSelector } from '@fastify/fast-json-stringify-compiler'
import { serializersCompiledOnFirstUse, validatorsCompiledOnFirstUse } from '../../../lib/api/compile-on-first-use.js'

const route = (schema: object) => ({ schema, method: 'GET', url: '/x', httpPart: 'querystring' }) as never
const QUERY = { type: 'object', properties: { limit: { type: 'integer' } }, additionalProperties: false }

t.test('a validator is built on its first call, once, and validates, coerces and reports as Ajv does', async t => {
  let builders = 0
  let routes = 0
  const build = validatorsCompiledOnFirstUse((externals: any, options: any) => {
    builders++
    const compile = AjvCompiler()(externals, options)
    return (definition: any) => { routes++; return compile(definition) }
  })
  const forRoutes = build({} as never, { customOptions: { coerceTypes: 'array' } } as never)
  const validate = forRoutes(route(QUERY))
  const other = forRoutes(route({ type: 'object' }))
  t.equal(builders, 0, 'no Ajv instance before a request')
  t.equal(routes, 0)
  t.equal(validate.schemaEnv, true, 'Fastify passes the parent, as for an Ajv function')
  t.equal(validate.errors, null)

  const query: Record<string, unknown> = { limit: '5' }
  const parent = { query }
  t.equal(validate(query, { parentData: parent, parentDataProperty: 'query' } as never), true)
  t.same(query, { limit: 5 }, 'coerced in place')
  t.equal(validate({ limit: 'x' }), false)
  t.match(validate.errors, [{ keyword: 'type', instancePath: '/limit' }])
  t.equal(validate({ limit: 1 }), true)
  t.equal(validate.errors, null, 'errors follow the last call')
  t.equal(builders, 1)
  t.equal(routes, 1, 'compiled once')
  t.equal(other({}), true)
  t.equal(builders, 1, 'one compiler for every route')
  t.equal(routes, 2)
})

t.test('a broken schema fails on the first call instead of at start-up', async t => {
  const validate = validatorsCompiledOnFirstUse(AjvCompiler())({} as never, { customOptions: {} } as never)(route({ type: 'strin' }))
  t.throws(() => validate({}))
})

t.test('a serializer is built on its first call, once, and writes what fast-json-stringify writes', async t => {
  let routes = 0
  const build = serializersCompiledOnFirstUse((externals: any, options: any) => {
    const compile = SerializerSelector()(externals, options)
    return (definition: any) => { routes++; return compile(definition) }
  })
  const serialize = build({} as never, {} as never)({ schema: { type: 'object', properties: { id: { type: 'integer' } } }, method: 'GET', url: '/x', httpStatus: '200' } as never)
  t.equal(routes, 0)
  t.equal(serialize({ id: 3, secret: 'never written' }), '{"id":3}')
  t.equal(serialize({ id: 4 }), '{"id":4}')
  t.equal(routes, 1)
})
