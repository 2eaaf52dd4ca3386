import { mkdirSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { pathToFileURL } from 'node:url'
import Fastify from 'fastify'
import t from 'tap'
import ui, { uiRoot, UI_HEADERS } from '../../routes/ui.js'
import { build, ROOT, tempDir } from '../helper.js'

// GET /ui/: the dashboard's static files, open (the data behind them needs the token), with a strict CSP.

t.test('/ui redirects to /ui/, which is index.html with the security headers and no-cache', async t => {
  const app = await build(t)
  const bare = await app.inject({ url: '/ui' })
  t.equal(bare.statusCode, 302, 'temporary: a browser does not keep it for good')
  t.equal(bare.headers.location, 'ui/', 'relative: behind a path prefix it stays under the prefix')
  t.equal(new URL(String(bare.headers.location), 'https://ci.test/hooks/ui').href, 'https://ci.test/hooks/ui/', 'resolved behind a prefix')
  t.equal(new URL(String(bare.headers.location), 'https://ci.test/ui').href, 'https://ci.test/ui/')
  const index = await app.inject({ url: '/ui/' })
  t.equal(index.statusCode, 200)
  t.match(index.headers['content-type'], /^text\/html/)
  t.match(index.body, /<script type="module" src="app.js"><\/script>/)
  t.notMatch(index.body, /style=|<script>|<style/, 'no inline script or style')
  for (const [name, value] of Object.entries(UI_HEADERS)) t.equal(index.headers[name], value, name)
  t.match(index.headers['content-security-policy'], /default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'/)
  t.ok(index.headers.etag, 'an ETag to revalidate with')
  const again = await app.inject({ url: '/ui/', headers: { 'if-none-match': String(index.headers.etag) } })
  t.equal(again.statusCode, 304, 'unchanged: a 304')
})

t.test('scripts and styles are served with their types; unknown files, dot files and paths out of ui/ are not', async t => {
  const app = await build(t)
  const script = await app.inject({ url: '/ui/app.js' })
  t.equal(script.statusCode, 200)
  t.match(script.headers['content-type'], /^(text|application)\/javascript/)
  t.equal(script.headers['x-content-type-options'], 'nosniff')
  const style = await app.inject({ url: '/ui/style.css' })
  t.match(style.headers['content-type'], /^text\/css/)
  t.equal((await app.inject({ url: '/ui/nothing.js' })).statusCode, 404)
  for (const url of ['/ui/../package.json', '/ui/%2e%2e/package.json', '/ui/..%2fapp.ts']) {
    const res = await app.inject({ url })
    t.ok(res.statusCode === 403 || res.statusCode === 404, `${url}: ${res.statusCode}`)
    t.notMatch(res.body, /"name": "build-hook"/)
  }
  t.equal((await app.inject({ url: '/ui/.hidden' })).statusCode, 404)
  // Only the kinds of file the dashboard is made of: its type-checking config is not served.
  for (const url of ['/ui/tsconfig.json', '/ui/tsconfig', '/ui/app.js.map', '/ui/index.html.bak']) {
    t.equal((await app.inject({ url })).statusCode, 404, url)
  }
  t.equal((await app.inject({ url: '/ui/index.html' })).statusCode, 200, 'index.html by name')
  t.equal((await app.inject({ method: 'POST', url: '/ui/' })).statusCode, 404, 'POST /ui/ is no route (and ui is a reserved slug)')
})

t.test('a dot file, or a file in a dot folder, is not served even when it exists and has a served type', async t => {
  const root = tempDir(t)
  writeFileSync(path.join(root, 'app.js'), 'export {}\n')
  writeFileSync(path.join(root, '.secret.js'), 'export const token = "not for anyone"\n')
  mkdirSync(path.join(root, '.git'))
  writeFileSync(path.join(root, '.git', 'config.js'), 'export {}\n')
  const app = Fastify()
  t.teardown(() => app.close())
  await app.register(ui, { root })
  t.equal((await app.inject({ url: '/ui/app.js' })).statusCode, 200, 'the same folder serves its other files')
  for (const url of ['/ui/.secret.js', '/ui/.git/config.js']) {
    const res = await app.inject({ url })
    t.equal(res.statusCode, 404, url)
    t.notMatch(res.body, /not for anyone/)
  }
})

t.test('the ui folder is found from the sources, from dist/ and from the bundle, dist/server.bundle.js', async t => {
  t.equal(uiRoot(pathToFileURL(path.join(ROOT, 'routes', 'ui.ts')).href), path.join(ROOT, 'ui'))
  t.equal(uiRoot(pathToFileURL(path.join(ROOT, 'dist', 'routes', 'ui.js')).href), path.join(ROOT, 'ui'))
  t.equal(uiRoot(pathToFileURL(path.join(ROOT, 'dist', 'server.bundle.js')).href), path.join(ROOT, 'ui'))
})
