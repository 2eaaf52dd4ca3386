import { existsSync, mkdirSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import t, { type Test } from 'tap'
import type { Browser, Page } from 'playwright-core'
import type { BuildRecord } from '../../lib/schemas/build.js'
import { builderReady, buildIn, buildOf, configToml, finished, harness, ROOT, TOKENS, tempDir, writeConfig } from '../helper.js'
import { startFakeKube } from '../fixtures/kube-api.js'
import { startGitServer } from '../fixtures/git-server.js'

// The dashboard (GET /ui/) in a real browser: Debian's Chromium driven by playwright-core, against a listening
// app with the docker and Kubernetes doubles. Skipped, saying why, on a machine without Chromium.

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium'
const WEB = 'registry.test/demo/web'
const auth = { authorization: `Bearer ${TOKENS[0]}` }
const commit = (c: string): string => c.repeat(40)
/** Generous: the machine may be busy (CI, other test files). */
const WAIT = { timeout: 60_000 }

if (!existsSync(CHROMIUM)) {
  t.plan(0, `no Chromium at ${CHROMIUM} (install Debian's chromium, or set CHROMIUM_PATH)`)
} else {
  const { chromium } = await import('playwright-core')
  const browser: Browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] })
  t.teardown(() => browser.close())
  tests(browser)
}

/** What each test's page reported: script errors and CSP violations (console errors other than an API answer's status). */
const pageProblems = new WeakMap<Test, string[]>()

/** A test with a page of its own (setup), checked for problems at its end. */
function browserTest (name: string, fn: (t: Test) => Promise<void>): void {
  t.test(name, async t => {
    await fn(t)
    t.same(pageProblems.get(t), [], 'no script errors and no CSP violations in the page')
  })
}

/**
 * A listening app with project `demo` (deployments on the Kubernetes double; its code at `demo`, a
 * https://git.test URL by default) and `other`, and a fresh page.
 */
async function setup (t: Test, browser: Browser, viewport = { width: 1280, height: 900 }, demo: { url?: string, branch?: string } = {}) {
  const kube = await startFakeKube(t, tempDir(t))
  kube.add('deployments', 'demo', 'web', { replicas: 1, containers: [{ name: 'web', image: `${WEB}:latest` }] })
  const deployments = '[projects.deployments]\nnamespace = "demo"\nresources = ["deployment/web"]\nstrategy = "digest"\n'
  const h = await harness(t, { CONFIG_PATH: writeConfig(t, configToml([{ slug: 'demo', extra: deployments, ...demo }, { slug: 'other' }])), KUBECONFIG: kube.kubeconfig })
  const base = await h.app.listen({ host: '127.0.0.1', port: 0 })
  await builderReady(h.app)
  const context = await browser.newContext({ viewport })
  t.teardown(() => context.close())
  const page = await context.newPage()
  page.setDefaultTimeout(WAIT.timeout)
  const problems: string[] = []
  page.on('pageerror', err => problems.push(err.message))
  page.on('console', message => { if (message.type() === 'error' && !message.text().startsWith('Failed to load resource')) problems.push(message.text()) })
  pageProblems.set(t, problems)
  const trigger = async (c: string): Promise<number> => {
    const res = await h.app.inject({ method: 'POST', url: '/demo', headers: auth, payload: { commit: commit(c) } })
    t.equal(res.statusCode, 202)
    return res.json().id as number
  }
  return { ...h, base, page, trigger }
}

async function signIn (page: Page, base: string, token: string = TOKENS[0]): Promise<void> {
  await page.goto(`${base}/ui`)
  await page.getByLabel('Bearer token').fill(token)
  await page.getByRole('button', { name: 'Sign in' }).click()
}

/** The token the page keeps (evaluated in the page: this file has no DOM types). */
const storedToken = (page: Page) => page.evaluate<string | null>("sessionStorage.getItem('build-hook.token')")

/** Signed in, the page read and the event stream there (every `ready` reads the page again). */
async function signedIn (page: Page, base: string): Promise<void> {
  await signIn(page, base)
  await page.locator('#live').getByText('Live').waitFor()
}

/** The build page's status badge showing `status`. */
const buildStatus = (page: Page, status: string) => page.locator('.details').first().locator(`.status-${status}`).first()

const gated = (t: Test, docker: { control: (behaviour: object) => void }): string => {
  const gate = path.join(tempDir(t), 'gate')
  docker.control({ images: { [WEB]: { waitForFile: gate } } })
  return gate
}

function tests (browser: Browser): void {
  browserTest('sign in with a token and see the projects, what each last built and what is deployed', async t => {
    // Nothing listens on port 1: reading the branch head fails at once, even offline.
    const { app, page, base } = await setup(t, browser, undefined, { url: 'http://127.0.0.1:1/org/demo' })
    await buildOf(t, app, 'demo', commit('a'))
    await signedIn(page, base)
    await page.getByRole('heading', { name: 'Projects' }).waitFor()
    const demo = page.locator('section.project', { has: page.getByRole('heading', { name: /^demo/ }) })
    await demo.getByText('succeeded').first().waitFor()
    t.match(await demo.innerText(), /Last build\s+succeeded #1 aaaaaaaaaaaa/)
    t.match(await demo.innerText(), /Deployed\s+succeeded build #1 aaaaaaaaaaaa digest/)
    t.match(await demo.innerText(), /registry\.test\/demo\/web sha256:[0-9a-f]{12}\n/)
    t.match(await page.locator('section.project', { has: page.getByRole('heading', { name: /^other/ }) }).innerText(), /none yet[\s\S]*no deployments/)
    // Build now resolves the branch head first: this repository cannot be read, and the API's reason is shown.
    await demo.getByRole('button', { name: 'Build now' }).click()
    await demo.locator('.outcome.error').waitFor()
    t.match(await demo.locator('.outcome.error').innerText(), /^cannot read http:\/\/127\.0\.0\.1:1\/org\/demo: /, 'the API\'s 502 message, in words')
    t.ok(await demo.getByRole('button', { name: 'Build now' }).isEnabled(), 'the button is back')
    const time = demo.locator('time').first()
    t.match(await time.getAttribute('title'), /\(\d{4}-\d\d-\d\dT.*Z\)$/, 'the exact time on hover')
    t.equal(await storedToken(page), TOKENS[0])
    t.notMatch(page.url(), new RegExp(TOKENS[0]), 'the token is in no URL')
  })

  browserTest('"Build now" keeps its "Queued: build #N" line while the build\'s events redraw the card', async t => {
    const git = await startGitServer(t, tempDir(t))
    const { app, page, base } = await setup(t, browser, undefined, { url: git.url, branch: 'main' })
    await signedIn(page, base)
    const demo = page.locator('section.project', { has: page.getByRole('heading', { name: /^demo/ }) })
    await demo.getByText('none yet').waitFor()
    await demo.getByRole('button', { name: 'Build now' }).click()
    await demo.locator('.outcome').getByText('Queued: build #1').waitFor()
    const build = await finished(app, 1)
    t.equal(build.commit, git.heads.main, 'the branch head was built')
    // The card shows the build's end (its events arrived and the card was redrawn), the line is still there.
    await demo.locator(`.details .status-${build.status}`).first().waitFor()
    t.match(await demo.innerText(), /Last build\s+\w+ #1/)
    t.equal(await demo.locator('.outcome').innerText(), 'Queued: build #1')
    t.ok(await demo.getByRole('button', { name: 'Build now' }).isEnabled())
  })

  browserTest('the log follows new lines at its end, and stays put once the reader scrolled up', async t => {
    const { app, docker, page, base, trigger } = await setup(t, browser)
    const gate = path.join(tempDir(t), 'gate')
    docker.control({ images: { [WEB]: { lines: 200, waitForFile: gate } } })
    await signedIn(page, base)
    const id = await trigger('9')
    await page.goto(`${base}/ui/#/builds/${id}`)
    await page.getByRole('heading', { name: `Build #${id} demo` }).waitFor()
    const log = page.getByLabel('Build log')
    await log.getByText('compiling unit 199').waitFor()
    const atEnd = "(() => { const log = document.querySelector('.log'); return log.scrollHeight > log.clientHeight && log.scrollTop + log.clientHeight >= log.scrollHeight - 8 })()"
    await page.waitForFunction(atEnd, undefined, WAIT)
    t.pass('at the end of a log taller than its box')
    // The reader scrolls up; the rest of the log arrives and the view does not jump.
    await page.evaluate("document.querySelector('.log').scrollTop = 100")
    const before = await page.evaluate<number>("document.querySelector('.log').scrollHeight")
    writeFileSync(gate, '')
    await log.getByText('exporting to image').waitFor()
    await page.getByText('End of the log.').waitFor()
    t.ok(await page.evaluate<number>("document.querySelector('.log').scrollHeight") > before, 'more lines came')
    t.equal(await page.evaluate<number>("document.querySelector('.log').scrollTop"), 100, 'the view stayed where the reader left it')
    await finished(app, id)
  })

  browserTest('a queued build\'s page says why it waits in its status line, not in the log, and how it ended before it started', async t => {
    const { app, docker, page, base, trigger } = await setup(t, browser)
    const gate = gated(t, docker)
    await signedIn(page, base)
    const running = await trigger('1')
    await buildIn(app, running, ['running'])
    const queued = await trigger('2')
    await page.goto(`${base}/ui/#/builds/${queued}`)
    await page.getByRole('heading', { name: `Build #${queued} demo` }).waitFor()
    await page.getByRole('status').getByText(`Queued: waiting for build ${running} of demo to finish (one build per project at a time)`).waitFor()
    t.equal(await page.getByLabel('Build log').textContent(), '', 'the log stays empty')
    const newer = await trigger('3')
    await page.getByText(`The build was superseded by build ${newer} before it started.`).waitFor()
    t.equal(await page.getByLabel('Build log').textContent(), '')
    writeFileSync(gate, '')
    await finished(app, newer)
  })

  browserTest('a wrong token is refused, and the page stays on sign-in', async t => {
    const { page, base } = await setup(t, browser)
    await signIn(page, base, 'not-a-token')
    await page.getByRole('alert').getByText('That token was refused').waitFor()
    t.ok(await page.getByLabel('Bearer token').isVisible())
    t.equal(await storedToken(page), null)
    t.ok(await page.locator('#nav').isHidden())
  })

  browserTest('a build triggered through the API appears in the list and its log grows live on its page', async t => {
    const { app, docker, page, base, trigger } = await setup(t, browser)
    const gate = gated(t, docker)
    await signedIn(page, base)
    await page.getByRole('heading', { name: 'Projects' }).waitFor()
    await page.getByRole('link', { name: 'Builds', exact: true }).click()
    await page.getByRole('heading', { name: 'Builds' }).waitFor()
    await page.getByText('Live').waitFor()
    const id = await trigger('b')
    const row = page.locator(`tr[data-build="${id}"]`)
    await row.getByText('running').waitFor()
    t.match(await row.innerText(), new RegExp(`#${id}\\s+demo\\s+running\\s+bbbbbbbbbbbb\\s+api`))
    await row.getByRole('link', { name: `#${id}` }).click()
    await page.getByRole('heading', { name: `Build #${id} demo` }).waitFor()
    const log = page.getByLabel('Build log')
    await log.getByText(`building ${WEB}`).waitFor()
    t.notMatch(await log.innerText(), /exporting to image/, 'the build waits at its gate')
    t.ok(await page.getByRole('button', { name: 'Cancel' }).isVisible())
    writeFileSync(gate, '')
    await log.getByText('exporting to image').waitFor()
    await page.getByText('End of the log.').waitFor()
    await buildStatus(page, 'succeeded').waitFor()
    t.equal((await finished(app, id)).status, 'succeeded')
    t.ok(await page.getByRole('button', { name: 'Rebuild' }).isVisible(), 'a finished build can be built again')
    t.ok(await page.getByRole('button', { name: 'Cancel' }).isHidden())
    await page.getByRole('link', { name: 'Builds', exact: true }).click()
    await page.locator(`tr[data-build="${id}"]`).getByText('succeeded').waitFor()
  })

  browserTest('a running build is cancelled from its page', async t => {
    const { app, docker, page, base, trigger } = await setup(t, browser)
    gated(t, docker)
    const id = await trigger('c')
    await buildIn(app, id, ['running'])
    await signedIn(page, base)
    await page.getByRole('heading', { name: 'Projects' }).waitFor()
    await page.goto(`${base}/ui/#/builds/${id}`)
    await page.getByRole('button', { name: 'Cancel' }).click()
    await page.getByText('Cancelling: it stops shortly.').waitFor()
    await buildStatus(page, 'cancelled').waitFor()
    t.equal((await finished(app, id)).status, 'cancelled')
    await page.getByRole('button', { name: 'Rebuild' }).waitFor()
  })

  browserTest('the rollback button on an older succeeded build queues a rollback; an API refusal is shown', async t => {
    const { app, page, base } = await setup(t, browser)
    const first = await buildOf(t, app, 'demo', commit('d'))
    await buildOf(t, app, 'demo', commit('e'))
    await signedIn(page, base)
    await page.getByRole('heading', { name: 'Projects' }).waitFor()
    await page.goto(`${base}/ui/#/builds/${first.id}`)
    await page.getByRole('button', { name: 'Roll back to this build' }).click()
    await page.getByText('Rollback queued: build #3').waitFor()
    const rollback: BuildRecord = await finished(app, 3)
    t.match(rollback, { status: 'succeeded', rollbackOf: first.id, trigger: { source: 'rollback' } })
    await page.getByRole('link', { name: '#3' }).click()
    await page.getByRole('heading', { name: 'Build #3 demo' }).waitFor()
    t.ok(await page.getByRole('button', { name: 'Rebuild' }).isHidden(), 'a rollback is not rebuilt')
    // A page whose build the API does not have: its message on the page.
    await page.goto(`${base}/ui/#/builds/${first.id}`)
    await page.getByRole('heading', { name: `Build #${first.id} demo` }).waitFor()
    await page.evaluate("location.hash = '#/builds/999'")
    await page.getByRole('alert').getByText('No build 999').waitFor()
  })

  browserTest('at 375 px wide no page scrolls sideways', async t => {
    const { app, page, base } = await setup(t, browser, { width: 375, height: 800 })
    const done = await buildOf(t, app, 'demo', commit('f'))
    await signedIn(page, base)
    const fits = () => page.evaluate<boolean>('document.documentElement.scrollWidth <= window.innerWidth')
    await page.getByRole('heading', { name: 'Projects' }).waitFor()
    await page.locator('section.project').first().getByText('succeeded').first().waitFor()
    t.ok(await fits(), 'projects')
    await page.getByRole('link', { name: 'Builds', exact: true }).click()
    await page.locator(`tr[data-build="${done.id}"]`).waitFor()
    t.ok(await fits(), 'builds')
    await page.goto(`${base}/ui/#/builds/${done.id}`)
    await page.getByText('End of the log.').waitFor()
    t.ok(await fits(), 'a build')
  })

  browserTest('sign-out forgets the token and returns to sign-in', async t => {
    const { page, base } = await setup(t, browser)
    await signedIn(page, base)
    await page.getByRole('heading', { name: 'Projects' }).waitFor()
    await page.getByRole('button', { name: 'Sign out' }).click()
    await page.getByLabel('Bearer token').waitFor()
    t.equal(await storedToken(page), null)
    await page.reload()
    await page.getByLabel('Bearer token').waitFor()
    t.ok(await page.getByRole('button', { name: 'Sign out' }).isHidden())
  })

  // SCREENSHOTS=1 npx tap test/ui/dashboard.test.ts saves the README's pictures to docs/screenshots.
  browserTest('the pages at desktop width, with builds of every kind', async t => {
    const { app, docker, page, base, trigger } = await setup(t, browser, { width: 1280, height: 860 })
    await buildOf(t, app, 'demo', commit('1'))
    const deployed = await buildOf(t, app, 'demo', commit('2'))
    docker.control({ images: { [WEB]: { fail: 'step' } } })
    const failed = await buildOf(t, app, 'demo', commit('3'))
    t.equal(failed.status, 'failed')
    gated(t, docker)
    const running = await trigger('4')
    await buildIn(app, running, ['running'])
    await signedIn(page, base)
    const shoot = async (name: string): Promise<void> => {
      if (process.env.SCREENSHOTS === undefined) return
      mkdirSync(path.join(ROOT, 'docs', 'screenshots'), { recursive: true })
      await page.screenshot({ path: path.join(ROOT, 'docs', 'screenshots', `${name}.png`), fullPage: true })
    }
    await page.locator('section.project').first().locator('.status-running').waitFor()
    t.match(await page.locator('section.project').first().innerText(), new RegExp(`Deployed\\s+succeeded build #${deployed.id}`))
    await page.getByText('Live').waitFor()
    await shoot('projects')
    await page.getByRole('link', { name: 'Builds', exact: true }).click()
    await page.locator(`tr[data-build="${running}"]`).waitFor()
    t.equal(await page.locator('tbody tr').count(), 4)
    await shoot('builds')
    await page.getByLabel('Status').selectOption('failed')
    await page.waitForURL(/#\/builds\?status=failed$/)
    await page.locator(`tr[data-build="${running}"]`).waitFor({ state: 'detached' })
    t.same(await page.locator('tbody tr').evaluateAll(rows => rows.map(row => row.getAttribute('data-build'))), [String(failed.id)], 'filtered by status')
    await page.goto(`${base}/ui/#/builds/${failed.id}`)
    await page.getByText('End of the log.').waitFor()
    t.match(await page.locator('.sections').innerText(), /step-failed/)
    await shoot('build')
  })
}
