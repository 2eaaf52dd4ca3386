'use strict'
// The Ajv that env-schema gets in the bundle (scripts/bundle.mjs). env-schema builds an Ajv instance when it is
// loaded, with a keyword whose own schema Ajv checks against the JSON Schema meta-schema, which Ajv compiles
// for it: 17 ms of every start of the bundle (bench/results.md, step 18). The same Ajv, but for that check:
// the schema the service gives env-schema is fixed, and test/scripts/env-schema-ajv.test.ts checks it against
// the meta-schema. In the bundle env-schema's `instanceof Ajv` (its `ajv` option) is against this class: the
// service passes no Ajv of its own there.
const Ajv = require('ajv')

class EnvSchemaAjv extends Ajv {
  constructor (options = {}) {
    super({ validateSchema: false, ...options })
  }
}

module.exports = EnvSchemaAjv
module.exports.default = EnvSchemaAjv
