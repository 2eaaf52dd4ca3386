import path from 'node:path'

// Semantic rules for config values. Each check returns null when the value is fine, or the
// reason it is not, phrased to follow "<toml path>: ".

/**
 * First path segments the service routes itself (the API, its description, the dashboard): a project slug may not take one.
 * /openapi.json needs no entry: a slug has no '.'.
 */
export const RESERVED_SLUGS: readonly string[] = Object.freeze(['health', 'ready', 'metrics', 'builds', 'projects', 'docs', 'ui', 'events'])

export const RESOURCE_KINDS = ['deployment', 'statefulset', 'daemonset'] as const
export type ResourceKind = typeof RESOURCE_KINDS[number]

// The spellings kubectl accepts for each kind, so resources from the original service's files keep working.
const KIND_ALIASES: Readonly<Record<string, ResourceKind>> = {
  deployment: 'deployment',
  deployments: 'deployment',
  deploy: 'deployment',
  'deployment.apps': 'deployment',
  statefulset: 'statefulset',
  statefulsets: 'statefulset',
  sts: 'statefulset',
  'statefulset.apps': 'statefulset',
  daemonset: 'daemonset',
  daemonsets: 'daemonset',
  ds: 'daemonset',
  'daemonset.apps': 'daemonset'
}

// Grammar of github.com/distribution/reference, which registries and buildx enforce.
const DOMAIN_COMPONENT = '(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])'
const PATH_COMPONENT = '[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*'
const REGISTRY_RE = new RegExp(`^${DOMAIN_COMPONENT}(?:\\.${DOMAIN_COMPONENT})*(?::[0-9]{1,5})?(?:/${PATH_COMPONENT})*$`)
const REPOSITORY_RE = new RegExp(`^${PATH_COMPONENT}(?:/${PATH_COMPONENT})*$`)
const TAG_RE = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/
const COMMIT_TAG_RE = /^sha-[0-9a-f]{12}$/
const MAX_REFERENCE_LENGTH = 255

const SLUG_RE = /^[a-z0-9][a-z0-9-]*$/
const MAX_SLUG_LENGTH = 63
const DNS_LABEL_RE = /^[a-z0-9](?:[-a-z0-9]*[a-z0-9])?$/
const DNS_SUBDOMAIN_RE = /^[a-z0-9](?:[-a-z0-9]*[a-z0-9])?(?:\.[a-z0-9](?:[-a-z0-9]*[a-z0-9])?)*$/
const ENV_NAME_RE = /^[A-Za-z_][A-Za-z0-9_]*$/
const BUILDER_NAME_RE = /^[a-z][a-z0-9._-]*$/
const TARGET_RE = /^[A-Za-z][A-Za-z0-9_.-]*$/
const PLATFORM_RE = /^[a-z0-9]+\/[a-z0-9_]+(?:\/[a-z0-9]+)?$/
const LOCAL_HOSTS = new Set(['localhost', '127.0.0.1', '[::1]'])

export function checkRegistry (value: string): string | null {
  if (/^[a-z]+:\/\//i.test(value)) return 'must be a registry host without a scheme, e.g. registry.example.com or ghcr.io/org'
  if (!REGISTRY_RE.test(value)) return 'must be a registry host[:port] with an optional lowercase path, e.g. registry.example.com or ghcr.io/org'
  return null
}

export function checkSlug (value: string): string | null {
  if (!SLUG_RE.test(value)) return 'must match [a-z0-9][a-z0-9-]* (lowercase letters, digits and dashes)'
  if (value.length > MAX_SLUG_LENGTH) return `must be at most ${MAX_SLUG_LENGTH} characters`
  if (RESERVED_SLUGS.includes(value)) return `'${value}' is reserved for the service's own route /${value}`
  return null
}

export function checkGitUrl (value: string): string | null {
  let url: URL
  try {
    url = new URL(value)
  } catch {
    return 'must be an https URL of a git repository, e.g. https://github.com/org/repo'
  }
  const local = LOCAL_HOSTS.has(url.hostname)
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && local)) {
    return 'must be an https URL (http only for localhost or 127.0.0.1)'
  }
  // Credentials in the URL would end up in argv, logs and build records: the token has its own variable.
  if (url.username !== '' || url.password !== '') return 'must not contain credentials: set [projects.code] token_env (or GIT_TOKEN) for private repositories'
  if (url.search !== '' || url.hash !== '') return 'must not contain a query or a #fragment'
  if (url.pathname === '/' || url.pathname === '') return 'must include the repository path, e.g. https://github.com/org/repo'
  return null
}

// git check-ref-format, for the part after refs/heads/.
export function checkBranch (value: string): string | null {
  const invalid = value.startsWith('-') ||
    value.startsWith('/') || value.endsWith('/') || value.endsWith('.') || value.endsWith('.lock') ||
    value.includes('..') || value.includes('//') || value.includes('@{') || value === '@' ||
    // eslint-disable-next-line no-control-regex -- git refuses control characters in ref names (git check-ref-format)
    /[\x00-\x20\x7f~^:?*[\\]/.test(value) ||
    value.split('/').some(part => part.startsWith('.'))
  return invalid ? 'must be a valid git branch name, e.g. main' : null
}

/** A path inside the repository: relative, no '..' segment. */
export function checkRepoPath (value: string): string | null {
  if (path.posix.isAbsolute(value) || value.includes('\\') || value.split('/').includes('..')) {
    return "must be a relative path without '..'"
  }
  return null
}

export function checkRepository (value: string): string | null {
  if (!REPOSITORY_RE.test(value)) return 'must be a valid OCI repository name: lowercase [a-z0-9] components separated by /, . _ __ or -'
  return null
}

export function checkReferenceLength (registry: string, repository: string): string | null {
  const name = `${registry}/${repository}`
  return name.length > MAX_REFERENCE_LENGTH ? `'${name}' is longer than ${MAX_REFERENCE_LENGTH} characters` : null
}

export function checkTag (value: string, cache: string): string | null {
  if (!TAG_RE.test(value)) return 'must be a valid OCI tag: [A-Za-z0-9_][A-Za-z0-9_.-], at most 128 characters'
  if (COMMIT_TAG_RE.test(value)) return "must not look like 'sha-<12 hex>': every build adds that tag for its commit"
  if (value === 'buildcache' && cache === 'registry') return "must not be 'buildcache': the registry cache is stored under that tag"
  return null
}

export function checkTarget (value: string): string | null {
  return TARGET_RE.test(value) ? null : 'must be a Dockerfile stage name: a letter, then letters, digits, _ . or -'
}

export function checkPlatform (value: string): string | null {
  return PLATFORM_RE.test(value) ? null : 'must be os/arch[/variant], e.g. linux/amd64 or linux/arm/v7'
}

export function checkEnvName (value: string): string | null {
  return ENV_NAME_RE.test(value) ? null : 'must be the name of an environment variable: [A-Za-z_][A-Za-z0-9_]*'
}

export function checkBuilderName (value: string): string | null {
  return BUILDER_NAME_RE.test(value) ? null : 'must start with a lowercase letter and contain only a-z, 0-9, ., _ and -'
}

export function checkEndpoint (value: string): string | null {
  let url: URL
  try {
    url = new URL(value)
  } catch {
    return 'must be tcp://host:port or unix:///path/to/buildkitd.sock'
  }
  if (url.protocol === 'tcp:' && url.hostname !== '' && url.port !== '' && (url.pathname === '' || url.pathname === '/')) return null
  if (url.protocol === 'unix:' && url.hostname === '' && url.pathname.length > 1) return null
  return 'must be tcp://host:port or unix:///path/to/buildkitd.sock'
}

export function checkNamespace (value: string): string | null {
  return DNS_LABEL_RE.test(value) && value.length <= 63
    ? null
    : 'must be a Kubernetes namespace name: lowercase letters, digits and -, at most 63 characters'
}

export interface ResourceRef {
  kind: ResourceKind
  name: string
}

export function parseResource (value: string): ResourceRef | string {
  const slash = value.indexOf('/')
  const kind = KIND_ALIASES[value.slice(0, slash).toLowerCase()]
  const name = value.slice(slash + 1)
  if (slash < 0 || kind === undefined) return 'must be kind/name with kind deployment, statefulset or daemonset, e.g. deployment/api'
  if (!DNS_SUBDOMAIN_RE.test(name) || name.length > 253) return `'${name}' is not a valid Kubernetes resource name`
  return { kind, name }
}

export function checkBuildArgName (value: string): string | null {
  return ENV_NAME_RE.test(value) ? null : 'must be a build argument name: [A-Za-z_][A-Za-z0-9_]*'
}

// Characters no URL of the config may hold: the value is used as written (e.g. links are <public_url>/ui/...),
// so nothing the WHATWG parser would silently drop or rewrite (whitespace, controls, backslashes).
const URL_UNSAFE_RE = /[\s\p{Cc}\\]/u
const HTTP_URL_START_RE = /^https?:\/\/[^/]/i
const CONTROL_RE = /\p{Cc}/u
const MAX_STATUS_CONTEXT_LENGTH = 255

/** Whether the value is an http(s) URL written as such (scheme://host...). */
function isHttpUrl (value: string): boolean {
  if (!HTTP_URL_START_RE.test(value) || URL_UNSAFE_RE.test(value)) return false
  return URL.canParse(value)
}

/** user[:password]@ before the host, as written (the parser drops an empty one, so ask the text). */
function hasCredentials (value: string): boolean {
  return value.slice(value.indexOf('//') + 2).split(/[/?#]/)[0]!.includes('@')
}

/** app.public_url: where users reach this service; build links are <public_url>/ui/builds/<id>. */
export function checkPublicUrl (value: string): string | null {
  if (!isHttpUrl(value)) return 'must be an http or https URL, e.g. https://build-hook.example.com'
  if (hasCredentials(value)) return 'must not contain credentials'
  if (/[?#]/.test(value)) return 'must not contain a query or a #fragment: build links are appended to it'
  return null
}

/** [projects.status] api_url: the Git host's API root. */
export function checkApiUrl (value: string): string | null {
  if (!isHttpUrl(value)) return 'must be an http or https URL of the API root, e.g. https://git.example.com/api/v1'
  if (hasCredentials(value)) return 'must not contain credentials: the token is read from token_env'
  if (/[?#]/.test(value)) return 'must not contain a query or a #fragment'
  return null
}

/** [[projects.notify]] url: a path and a query are the receiver's (chat webhooks carry their token there). */
export function checkNotifyUrl (value: string): string | null {
  if (!isHttpUrl(value)) return 'must be an http or https URL, e.g. https://hooks.slack.com/services/...'
  if (hasCredentials(value)) return 'must not contain user:password@ credentials: sign the body with secret_env, or put a token in the path or query'
  if (value.includes('#')) return 'must not contain a #fragment'
  return null
}

/** [projects.status] context: the status's name on the commit. */
export function checkStatusContext (value: string): string | null {
  if (CONTROL_RE.test(value)) return 'must not contain control characters'
  const length = [...value].length
  return length > MAX_STATUS_CONTEXT_LENGTH ? `must be at most ${MAX_STATUS_CONTEXT_LENGTH} characters` : null
}
