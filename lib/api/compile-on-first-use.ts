/* eslint-disable @typescript-eslint/no-explicit-any -- Fastify's compiler builders (@fastify/ajv-compiler's, fast-json-stringify's) take and return `any`: these wrappers accept them as they are. */
// Fastify compiles every route's request validators (Ajv) and response serializers (fast-json-stringify)
// while it starts: about 150 ms of CPU and the memory of code most routes need rarely, if ever. These
// builders hand Fastify the same compilers, but each route's function is compiled when it is first called:
// the same validation, coercion, errors and output, paid by the first request that needs it. What start-up no
// longer does, checking that every schema compiles, test/routes/route-schemas.test.ts does for every route.
// Fastify treats compilers given this way as custom ones: it no longer lower-cases the property names of a
// route's `headers` schema, so such a schema must name headers in lower case (that test checks it).

/** An Ajv validate function as Fastify calls it (`schemaEnv` makes Fastify pass the parent, so that a
 * querystring's root can be coerced) and reads it (`errors` after a false result). */
export interface Validate {
  (data: any, context?: any): any
  errors?: unknown
  schemaEnv?: unknown
}

type RouteCompiler<F> = (route: any) => F
// Fastify's builder types (@fastify/ajv-compiler's, fast-json-stringify's) are kept as they are given.
type Builder<F> = (externalSchemas: any, options?: any) => RouteCompiler<F>

/** Wraps a validator builder (Fastify's `compilersFactory.buildValidator`): neither the Ajv instance nor a
 * route's validator exists until a request needs it. */
export function validatorsCompiledOnFirstUse<B extends Builder<Validate>> (build: B): B {
  return ((externalSchemas: unknown, options: unknown) => {
    let compiler: RouteCompiler<Validate> | undefined
    return (route: unknown): Validate => {
      let validate: Validate | undefined
      const firstUse: Validate = function (data, context) {
        validate ??= (compiler ??= build(externalSchemas, options))(route)
        const result = validate(data, context)
        firstUse.errors = validate.errors
        return result
      }
      firstUse.errors = null
      // Ajv's functions all have it; Fastify then always passes the parent, which Ajv accepts.
      firstUse.schemaEnv = true
      return firstUse
    }
  }) as B
}

/** Wraps a serializer builder (Fastify's `compilersFactory.buildSerializer`) the same way. */
export function serializersCompiledOnFirstUse<B extends Builder<(data: any) => string>> (build: B): B {
  return ((externalSchemas: unknown, options: unknown) => {
    let compiler: RouteCompiler<(data: any) => string> | undefined
    return (route: unknown) => {
      let serialize: ((data: unknown) => string) | undefined
      return (data: unknown): string => (serialize ??= (compiler ??= build(externalSchemas, options))(route))(data)
    }
  }) as B
}
