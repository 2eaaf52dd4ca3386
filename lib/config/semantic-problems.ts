import path from 'node:path'
import { canonicalPlatform } from './platform.js'
import { joinPath, type Problem } from './problems.js'
import * as rules from './rules.js'
import { NotifyEvents, StatusProviders, type StatusProvider } from './schema.js'
import { DEFAULTS } from './settings.js'
import { BITBUCKET_CLOUD_API, BITBUCKET_MAX_KEY, DEFAULT_CONTEXT_PREFIX, PUBLIC_HOSTS, apiPrefix, inferProvider, statusTarget } from './status-target.js'

type Table = Record<string, unknown>
type Check = (at: string, value: unknown, rule: (v: string) => string | null) => void

// Walks whatever was parsed, checking every value that has the right type; wrong types are the
// schema's to report, so a half-broken file still gets every problem listed in one pass.
export function semanticProblems (raw: unknown): Problem[] {
  const problems: Problem[] = []
  const check = (at: string, value: unknown, rule: (v: string) => string | null): void => {
    if (typeof value !== 'string' || value === '') return
    const message = rule(value)
    if (message !== null) problems.push({ path: at, message })
  }

  const root = table(raw)
  const app = table(root.app)
  check('app.registry', app.registry, rules.checkRegistry)
  check('app.public_url', app.public_url, rules.checkPublicUrl)
  const builder = table(app.builder)
  check('app.builder.name', builder.name, rules.checkBuilderName)
  check('app.builder.endpoint', builder.endpoint, rules.checkEndpoint)
  tlsProblems(builder.tls, 'app.builder.tls', problems)
  const offered = builderNodeProblems(builder, check, problems)
  check('app.webhook.secret_env', table(app.webhook).secret_env, rules.checkEnvName)

  const slugs = new Map<string, string>()
  const references = new Map<string, string>()
  list(root.projects).forEach((entry, p) => {
    const at = joinPath('projects', p)
    const project = table(entry)
    check(`${at}.slug`, project.slug, rules.checkSlug)
    firstOf(slugs, project.slug, `${at}.slug`, problems)
    const code = table(project.code)
    check(`${at}.code.url`, code.url, rules.checkGitUrl)
    check(`${at}.code.branch`, code.branch, rules.checkBranch)
    check(`${at}.code.token_env`, code.token_env, rules.checkEnvName)
    check(`${at}.webhook.secret_env`, table(project.webhook).secret_env, rules.checkEnvName)

    const repositories = new Map<string, string>()
    list(project.image).forEach((imageEntry, i) => {
      imageProblems(table(imageEntry), joinPath(`${at}.image`, i), app.registry, check, problems)
      if (offered !== null) offeredPlatformProblems(table(imageEntry), joinPath(`${at}.image`, i), offered, problems)
      const image = table(imageEntry)
      // Two images of one project in one repository would overwrite each other's sha-<commit> tag.
      const unique = firstOf(repositories, image.repository, `${joinPath(`${at}.image`, i)}.repository`, problems)
      if (unique && typeof image.repository === 'string' && typeof image.tag === 'string') {
        firstOf(references, `${image.repository}:${image.tag}`, `${joinPath(`${at}.image`, i)}.tag`, problems)
      }
    })

    const deployments = table(project.deployments)
    check(`${at}.deployments.namespace`, deployments.namespace, rules.checkNamespace)
    const resources = new Map<string, string>()
    list(deployments.resources).forEach((resource, r) => {
      const rat = joinPath(`${at}.deployments.resources`, r)
      if (typeof resource !== 'string' || resource === '') return
      const parsed = rules.parseResource(resource)
      if (typeof parsed === 'string') problems.push({ path: rat, message: parsed })
      else firstOf(resources, `${parsed.kind}/${parsed.name}`, rat, problems)
    })

    // A status that is not a table is the schema's to report: nothing to derive from it.
    if (isTable(project.status)) statusProblems(project.status, `${at}.status`, code.url, project.slug, check, problems)
    list(project.notify).forEach((notifyEntry, n) => {
      const nat = joinPath(`${at}.notify`, n)
      const notify = table(notifyEntry)
      check(`${nat}.url`, notify.url, rules.checkNotifyUrl)
      check(`${nat}.secret_env`, notify.secret_env, rules.checkEnvName)
      const events = new Map<string, string>()
      list(notify.events).forEach((event, e) => {
        // An event that is not one is the schema's to report, once.
        if ((NotifyEvents as readonly unknown[]).includes(event)) firstOf(events, event, joinPath(`${nat}.events`, e), problems)
      })
    })
  })
  return problems
}

function tlsProblems (value: unknown, at: string, problems: Problem[]): void {
  const tls = table(value)
  if ((typeof tls.cert === 'string') !== (typeof tls.key === 'string')) problems.push({ path: at, message: 'cert and key must be set together' })
}

/** [[app.builder.nodes]]: returns the platforms the nodes offer, each with its node's path (null: no nodes). */
function builderNodeProblems (builder: Table, check: Check, problems: Problem[]): Map<string, string> | null {
  if (!Array.isArray(builder.nodes)) return null
  if (builder.endpoint !== undefined || builder.tls !== undefined) {
    problems.push({ path: 'app.builder.nodes', message: 'app.builder.endpoint (and app.builder.tls) and app.builder.nodes are alternatives: set one of them' })
  }
  if (builder.nodes.length === 0) problems.push({ path: 'app.builder.nodes', message: 'must list at least one node' })
  const endpoints = new Map<string, string>()
  const offered = new Map<string, string>()
  builder.nodes.forEach((entry, n) => {
    const at = joinPath('app.builder.nodes', n)
    const node = table(entry)
    check(`${at}.endpoint`, node.endpoint, rules.checkEndpoint)
    firstOf(endpoints, node.endpoint, `${at}.endpoint`, problems)
    tlsProblems(node.tls, `${at}.tls`, problems)
    if (Array.isArray(node.platforms) && node.platforms.length === 0) problems.push({ path: `${at}.platforms`, message: 'must list at least one platform, e.g. ["linux/amd64"]' })
    const platforms = new Map<string, string>()
    list(node.platforms).forEach((platform, i) => {
      const path = joinPath(`${at}.platforms`, i)
      check(path, platform, rules.checkPlatform)
      firstOf(platforms, platform, path, problems)
      if (typeof platform !== 'string' || rules.checkPlatform(platform) !== null) return
      // buildx gives a platform to one node only: appending a node takes it off the others.
      const canonical = canonicalPlatform(platform)
      const holder = offered.get(canonical)
      if (holder === undefined) offered.set(canonical, at)
      else if (holder !== at) problems.push({ path, message: `${canonical} is already a platform of ${holder}: buildx gives each platform to one node only` })
    })
  })
  // No platform at all has its own problem already: no image is told that none is offered.
  return offered.size === 0 ? null : offered
}

/** An image asking for a platform no node offers would fail every build: said at start-up instead. */
function offeredPlatformProblems (image: Table, at: string, offered: ReadonlyMap<string, string>, problems: Problem[]): void {
  list(image.platforms).forEach((platform, i) => {
    if (typeof platform !== 'string' || rules.checkPlatform(platform) !== null || offered.has(canonicalPlatform(platform))) return
    const nodes = [...offered.keys()].join(', ')
    problems.push({ path: joinPath(`${at}.platforms`, i), message: `no node of app.builder.nodes offers ${platform} (they offer ${nodes})` })
  })
}

function statusProblems (status: Table, at: string, codeUrl: unknown, slug: unknown, check: Check, problems: Problem[]): void {
  check(`${at}.token_env`, status.token_env, rules.checkEnvName)
  check(`${at}.api_url`, status.api_url, rules.checkApiUrl)
  check(`${at}.context`, status.context, rules.checkStatusContext)
  if (status.provider === 'gogs') {
    problems.push({
      path: `${at}.provider`,
      message: 'Gogs has no commit status API: remove [projects.status] from this project (notifications through [[projects.notify]] still work)'
    })
    return
  }
  // The rest is derived from code.url, which has its own problem when it is not a repository's URL.
  if (typeof codeUrl !== 'string' || rules.checkGitUrl(codeUrl) !== null) return
  const url = new URL(codeUrl)
  let provider: StatusProvider
  if (status.provider === undefined) {
    const inferred = inferProvider(url)
    if (inferred === null) {
      const hosts = Object.keys(PUBLIC_HOSTS).join(', ').replace(/, ([^,]+)$/, ' or $1')
      const providers = StatusProviders.map(name => `"${name}"`).join(' | ')
      problems.push({ path: `${at}.provider`, message: `required: code.url's host ${url.hostname} is not ${hosts}; set provider = ${providers}` })
      return
    }
    provider = inferred
  } else if ((StatusProviders as readonly unknown[]).includes(status.provider)) {
    provider = status.provider as StatusProvider
  } else {
    return // not a provider: the schema's to report
  }
  if (provider === 'bitbucket' && inferProvider(url) !== 'bitbucket' && status.api_url === undefined) {
    problems.push({
      path: `${at}.api_url`,
      message: `required for a bitbucket provider outside bitbucket.org: only Bitbucket Cloud's status API is supported (${BITBUCKET_CLOUD_API})`
    })
  }
  if (provider === 'bitbucket') {
    // Bitbucket refuses a status whose key (the context) is longer: every status would fail.
    const given = typeof status.context === 'string'
    const context = given ? status.context as string : `${DEFAULT_CONTEXT_PREFIX}${String(slug)}`
    if ([...context].length > BITBUCKET_MAX_KEY) {
      problems.push({
        path: `${at}.context`,
        message: given
          ? `must be at most ${BITBUCKET_MAX_KEY} characters for Bitbucket (the longest status key it accepts)`
          : `required: the default '${context}' is longer than the ${BITBUCKET_MAX_KEY} characters Bitbucket accepts for a status key; set a shorter context`
      })
    }
  }
  const apiUrl = typeof status.api_url === 'string' && rules.checkApiUrl(status.api_url) === null ? status.api_url : undefined
  const target = statusTarget(provider, url, apiUrl)
  if (target.repository.length < 2) {
    problems.push({ path: at, message: repositoryMessage(provider, url, target.apiUrl) })
  }
}

/** What code.url must look like for the status API to name its repository. */
function repositoryMessage (provider: StatusProvider, url: URL, apiUrl: string): string {
  const example = provider === 'gitlab'
    ? [url.origin, ...apiPrefix(apiUrl), 'group', 'project'].join('/')
    : `${url.origin}/owner/repo`
  return `code.url must look like ${example} for commit statuses`
}

function imageProblems (
  image: Table,
  at: string,
  registry: unknown,
  check: Check,
  problems: Problem[]
): void {
  const cache = typeof image.cache === 'string' ? image.cache : DEFAULTS.cache
  check(`${at}.repository`, image.repository, rules.checkRepository)
  if (typeof registry === 'string') check(`${at}.repository`, image.repository, repo => rules.checkReferenceLength(registry, repo))
  check(`${at}.tag`, image.tag, tag => rules.checkTag(tag, cache))
  check(`${at}.location`, image.location, rules.checkRepoPath)
  check(`${at}.context`, image.context, rules.checkRepoPath)
  check(`${at}.target`, image.target, rules.checkTarget)
  const platforms = new Map<string, string>()
  list(image.platforms).forEach((platform, i) => {
    check(joinPath(`${at}.platforms`, i), platform, rules.checkPlatform)
    firstOf(platforms, platform, joinPath(`${at}.platforms`, i), problems)
  })
  for (const name of Object.keys(table(image.build_args))) {
    const message = rules.checkBuildArgName(name)
    if (message !== null) problems.push({ path: joinPath(`${at}.build_args`, name), message })
  }
  // buildx reads -f relative to the context directory of a git context, so the Dockerfile must sit inside it.
  if (typeof image.location === 'string' && typeof image.context === 'string' &&
      rules.checkRepoPath(image.location) === null && rules.checkRepoPath(image.context) === null) {
    const relative = path.posix.relative(path.posix.normalize(image.context), path.posix.normalize(image.location))
    if (relative.startsWith('..')) {
      problems.push({ path: `${at}.location`, message: `must be inside the context directory '${image.context}'` })
    }
  }
}

/** Records where a value first appeared; reports a later repeat of it (and returns false for it). */
function firstOf (seen: Map<string, string>, value: unknown, at: string, problems: Problem[]): boolean {
  if (typeof value !== 'string' || value === '') return true
  const first = seen.get(value)
  if (first === undefined) {
    seen.set(value, at)
    return true
  }
  problems.push({ path: at, message: `duplicate of ${first} ('${value}')` })
  return false
}

function isTable (value: unknown): value is Table {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

function table (value: unknown): Table {
  return isTable(value) ? value : {}
}

function list (value: unknown): unknown[] {
  return Array.isArray(value) ? value : []
}
