import { test } from 'tap'
import { Ajv } from 'ajv'
import { ConfigFileSchema } from '../../../lib/config/schema.js'
import { CONFIG_VALIDATOR_OPTIONS } from '../../../lib/config/schema-problems.js'

// The validator skips Ajv's check of the schema itself at start-up: this is where that check is made.
test('the config schema is a valid JSON Schema (draft-07), as Ajv checks before compiling it', async t => {
  const ajv = new Ajv({ strict: false })
  t.equal(ajv.validateSchema(ConfigFileSchema), true, JSON.stringify(ajv.errors))
  t.doesNotThrow(() => new Ajv(CONFIG_VALIDATOR_OPTIONS).compile(ConfigFileSchema))
  // And a broken one would have been caught here.
  t.equal(ajv.validateSchema({ type: 'object', properties: { a: { type: 'strin' } } }), false)
})
