import { createRequire } from 'node:module'
import { Ajv } from 'ajv'
import envSchema from 'env-schema'
import t from 'tap'
import { EnvSchema } from '../../lib/env.js'

// What scripts/bundle.mjs gives env-schema in place of ajv.
const EnvSchemaAjv = createRequire(import.meta.url)('../../scripts/env-schema-ajv.cjs') as typeof Ajv

t.test("env-schema's Ajv in the bundle is Ajv without the meta-schema check of schemas, unless told otherwise", async t => {
  const ajv = new EnvSchemaAjv({ allErrors: true, keywords: [envSchema.keywords.separator] })
  t.ok(ajv instanceof Ajv)
  t.equal(ajv.opts.validateSchema, false)
  t.equal(ajv.opts.allErrors, true, "the caller's options kept")
  t.equal(new EnvSchemaAjv({ validateSchema: true }).opts.validateSchema, true)
  t.equal(new EnvSchemaAjv().opts.validateSchema, false)
  t.equal((EnvSchemaAjv as unknown as { default: unknown }).default, EnvSchemaAjv, 'required as ajv is: itself and its default')
})

t.test("the service's environment schema is valid against the meta-schema, with env-schema's keyword (the check the bundle skips)", async t => {
  const ajv = new Ajv({ keywords: [envSchema.keywords.separator] })
  t.equal(ajv.validateSchema(EnvSchema), true, ajv.errorsText(ajv.errors))
})

t.test('with it, env-schema still validates, coerces and defaults the environment', async t => {
  const ajv = new EnvSchemaAjv({ allErrors: true, removeAdditional: true, useDefaults: true, coerceTypes: true, allowUnionTypes: true, keywords: [envSchema.keywords.separator] })
  t.match(envSchema({ schema: structuredClone(EnvSchema), data: { PORT: '8080' }, env: false, ajv }), { PORT: 8080, HOST: '0.0.0.0' })
  t.throws(() => envSchema({ schema: structuredClone(EnvSchema), data: { PORT: 'eighty' }, env: false, ajv }), { message: 'env/PORT must be integer' })
})
