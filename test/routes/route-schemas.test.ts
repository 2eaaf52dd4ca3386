import t from 'tap'
import { AjvCompiler } from '@fastify/ajv-compiler'
import { SerializerSelector } from '@fastify/fast-json-stringify-compiler'
import type { RouteOptions } from 'fastify'
import { serverOptions } from '../../app.js'
import { build } from '../helper.js'
import { LogLineRedactor } from '../../lib/secrets/log-line-redactor.js'

// Routes' validators and serializers are compiled when first used (lib/api/compile-on-first-use.ts), so
// start-up no longer proves that every schema compiles: this test compiles them all, with Fastify's own
// compilers and the server's options, as start-up did.
t.test('every route schema compiles with Fastify\'s compilers and the server\'s options', async t => {
  const routes: RouteOptions[] = []
  await build(t, {}, {}, app => { app.addHook('onRoute', route => { routes.push(route) }) })
  const options = serverOptions({ env: {} }, new LogLineRedactor({}))
  const validatorFor = AjvCompiler()({}, options.ajv as never)
  const serializerFor = SerializerSelector()({}, {})
  let validators = 0
  let serializers = 0
  for (const route of routes) {
    const method = String(route.method)
    const schema = route.schema as Record<string, unknown> | undefined
    if (schema === undefined) continue
    // Fastify lower-cases a headers schema's names only for its own compilers, not for these.
    const headers = schema.headers as { properties?: object, required?: string[] } | undefined
    for (const name of [...Object.keys(headers?.properties ?? {}), ...(headers?.required ?? [])]) t.equal(name, name.toLowerCase(), `${method} ${route.url}: header ${name} in lower case`)
    for (const httpPart of ['body', 'querystring', 'params', 'headers'] as const) {
      if (schema[httpPart] === undefined) continue
      t.doesNotThrow(() => validatorFor({ schema: schema[httpPart] as never, method, url: route.url, httpPart }), `${method} ${route.url} ${httpPart}`)
      validators++
    }
    for (const [httpStatus, response] of Object.entries((schema.response ?? {}) as Record<string, object>)) {
      t.doesNotThrow(() => serializerFor({ schema: response, method, url: route.url, httpStatus }), `${method} ${route.url} ${httpStatus}`)
      serializers++
    }
  }
  // The API has validated requests and described answers: a test that compiled nothing would prove nothing.
  t.ok(validators >= 10, `${validators} validators`)
  t.ok(serializers >= 20, `${serializers} serializers`)
})
