import t, { type Test } from 'tap'
import type { FastifyInstance } from 'fastify'
import { build, TOKENS } from '../helper.js'

interface Operation {
  tags?: string[]
  summary?: string
  security?: Array<Record<string, string[]>>
  responses: Record<string, { content?: Record<string, { schema: { properties?: Record<string, unknown> } }> }>
}
interface Document {
  openapi: string
  info: { title: string, version: string }
  tags: Array<{ name: string }>
  components: { securitySchemes: Record<string, { type: string }> }
  paths: Record<string, Record<string, Operation>>
}

// The pages about the API, hidden from the document they serve.
// The description's own routes, and the dashboard's files (routes/ui.ts): not API, hidden from the document.
const OWN = (url: string) => url === '/openapi.json' || url === '/docs' || url.startsWith('/docs/') || url === '/ui' || url.startsWith('/ui/')

async function documented (t: Test, register?: (app: FastifyInstance) => void): Promise<{ app: FastifyInstance, doc: Document }> {
  const app = await build(t, {}, {}, register)
  const res = await app.inject({ method: 'GET', url: '/openapi.json' })
  t.equal(res.statusCode, 200)
  t.match(res.headers['content-type'], /^application\/json; charset=utf-8$/)
  return { app, doc: res.json() as Document }
}

t.test('GET /openapi.json is an OpenAPI 3 document of build-hook, with no token', async t => {
  const { doc } = await documented(t)
  t.match(doc.openapi, /^3\.\d+\.\d+$/)
  t.equal(doc.info.title, 'build-hook')
  t.equal(doc.info.version, '0.1.0')
  t.same(Object.keys(doc.components.securitySchemes).sort(), ['bearer', 'webhookSignature'])
})

t.test('every route of the app is in the document with its methods, but HEAD, the documentation itself and the dashboard\'s files', async t => {
  const declared = new Set<string>()
  const hidden = new Set<string>()
  const { doc } = await documented(t, app => {
    app.addHook('onRoute', route => {
      const url = route.url.replace(/:([A-Za-z0-9_]+)/g, '{$1}')
      for (const method of [route.method].flat()) {
        if (method === 'HEAD') continue
        ;(OWN(route.url) ? hidden : declared).add(`${method} ${url}`)
      }
    })
  })
  const inDocument = new Set(Object.entries(doc.paths).flatMap(([url, item]) => Object.keys(item).map(method => `${method.toUpperCase()} ${url}`)))
  t.ok(declared.size >= 10, `${declared.size} routes`)
  t.same([...inDocument].sort(), [...declared].sort())
  t.ok(hidden.has('GET /openapi.json') && hidden.has('GET /docs'), 'the documentation routes were declared')
})

t.test("each operation's security follows its route's auth, and each has one of the document's tags", async t => {
  const { doc } = await documented(t)
  t.same(doc.paths['/builds/{id}']?.get?.security, [{ bearer: [] }])
  t.same(doc.paths['/projects/{slug}/rollback']?.post?.security, [{ bearer: [] }])
  t.same(doc.paths['/health']?.get?.security, [])
  t.same(doc.paths['/metrics']?.get?.security, [])
  t.same(doc.paths['/{slug}']?.post?.security, [{ bearer: [] }, { webhookSignature: [] }], 'a bearer token or the Git host signature')
  t.equal(doc.components.securitySchemes.bearer?.type, 'http')
  const tags = doc.tags.map(tag => tag.name)
  t.same(tags.slice().sort(), ['builds', 'health', 'hook', 'metrics', 'projects'])
  for (const [url, item] of Object.entries(doc.paths)) {
    for (const [method, operation] of Object.entries(item)) {
      t.equal(operation.tags?.length, 1, `${method} ${url} has one tag`)
      t.ok(tags.includes(operation.tags![0]!), `${method} ${url}: ${operation.tags![0]} is a tag of the document`)
      t.type(operation.summary, 'string', `${method} ${url} has a summary`)
    }
  }
})

t.test("the routes' response schemas are in the document, with their media types", async t => {
  const { doc } = await documented(t)
  const build = doc.paths['/builds/{id}']!.get!.responses['200']!.content!['application/json']!.schema
  for (const field of ['id', 'status', 'trigger', 'images', 'deploy', 'reports']) t.ok(build.properties?.[field], `a build has ${field}`)
  t.ok(doc.paths['/builds/{id}']!.get!.responses['404']!.content!['application/json'], 'errors are JSON')
  t.ok(doc.paths['/builds/{id}/logs']!.get!.responses['200']!.content!['text/plain; charset=utf-8'], 'a log is text')
  t.ok(doc.paths['/metrics']!.get!.responses['200']!.content!['text/plain'], 'metrics are text')
})

t.test('GET /docs is an HTML page whose scripts and styles the service serves itself, with no token', async t => {
  const app = await build(t)
  for (const url of ['/docs', '/docs/']) {
    const page = await app.inject({ method: 'GET', url })
    t.equal(page.statusCode, 200, url)
    t.match(page.headers['content-type'], /^text\/html; charset=utf-8$/)
    t.notMatch(page.body, /https?:\/\//, 'nothing from another host')
    const assets = [...page.body.matchAll(/(?:src|href)="([^"]+)"/g)].map(match => new URL(match[1]!, `http://hook.test${url}`).pathname)
    t.ok(assets.some(asset => asset.endsWith('.js')) && assets.some(asset => asset.endsWith('.css')), `${url} loads scripts and styles`)
    for (const asset of assets) {
      const res = await app.inject({ method: 'GET', url: asset })
      t.equal(res.statusCode, 200, asset)
      t.match(res.headers['content-type'], /^(application\/javascript|text\/css|image\/png)/, asset)
    }
  }
  // The page asks for the document relative to itself.
  const initializer = await app.inject({ method: 'GET', url: '/docs/static/swagger-initializer.js' })
  t.match(initializer.body, "resolveUrl('./json')")
  const spec = await app.inject({ method: 'GET', url: '/docs/json' })
  t.equal(spec.statusCode, 200)
  t.same(spec.json(), (await app.inject({ method: 'GET', url: '/openapi.json' })).json(), 'the same document as /openapi.json')
})

t.test('opening the documentation opens nothing else: the other routes still want a token', async t => {
  const app = await build(t)
  t.equal((await app.inject({ method: 'GET', url: '/builds' })).statusCode, 401)
  t.equal((await app.inject({ method: 'GET', url: '/builds', headers: { authorization: `Bearer ${TOKENS[0]}` } })).statusCode, 200)
  t.equal((await app.inject({ method: 'POST', url: '/demo' })).statusCode, 401)
})
