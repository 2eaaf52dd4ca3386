// Container image references read the way Kubernetes and containerd resolve them
// (github.com/distribution/reference ParseNormalizedNamed), so that "which container runs the image
// we built" is decided as the node pulling it would decide it: `nginx`, `docker.io/nginx` and
// `index.docker.io/library/nginx:1` are one repository; `registry.test/demo/web` and
// `other.test/demo/web` are two.

// The grammar of distribution/reference's regexp.go.
const DOMAIN_COMPONENT = '(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])'
const DOMAIN = `(?:${DOMAIN_COMPONENT}(?:\\.${DOMAIN_COMPONENT})*|\\[[a-fA-F0-9:]+\\])(?::[0-9]+)?`
const PATH_COMPONENT = '[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*'
const PATH = `${PATH_COMPONENT}(?:/${PATH_COMPONENT})*`
const TAG = '[\\w][\\w.-]{0,127}'
const DIGEST = '[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}'
const REFERENCE_RE = new RegExp(`^(${DOMAIN})/(${PATH})(?::(${TAG}))?(?:@(${DIGEST}))?$`)
const IDENTIFIER_RE = /^[a-f0-9]{64}$/
// go-digest accepts only these algorithms, each with its exact length of lowercase hex.
const DIGEST_ENCODED: Readonly<Record<string, RegExp>> = { sha256: /^[a-f0-9]{64}$/, sha384: /^[a-f0-9]{96}$/, sha512: /^[a-f0-9]{128}$/ }
const MAX_PATH_LENGTH = 255

const DEFAULT_DOMAIN = 'docker.io'
const LEGACY_DEFAULT_DOMAIN = 'index.docker.io'
const OFFICIAL_PREFIX = 'library/'

export interface ImageReference {
  /**
   * `<domain>/<path>`, normalised: docker.io and library/ added to short names, index.docker.io read
   * as docker.io, and the domain lowercased, because host names are case-insensitive (Registry.Test
   * is the registry at registry.test) while the path is not (and the grammar only allows it lowercase).
   */
  repository: string
  tag: string | null
  digest: string | null
}

/** The reference as a node resolves it, or null when it is not one (containerd would refuse to pull it). */
export function parseImageReference (reference: string): ImageReference | null {
  if (IDENTIFIER_RE.test(reference)) return null // a bare image ID, not a name
  const [domain, remainder] = splitDomain(reference)
  const match = REFERENCE_RE.exec(`${domain}/${remainder}`)
  if (match === null) return null
  const [, matchedDomain, path, tag, digest] = match as unknown as [string, string, string, string | undefined, string | undefined]
  if (path.length > MAX_PATH_LENGTH) return null
  if (digest !== undefined && !validDigest(digest)) return null
  return { repository: `${matchedDomain.toLowerCase()}/${path}`, tag: tag ?? null, digest: digest ?? null }
}

/** The repository of a reference, without tag or digest, normalised (see ImageReference), or null. */
export function imageRepository (reference: string): string | null {
  return parseImageReference(reference)?.repository ?? null
}

// distribution/reference's splitDockerDomain: which first component is a registry host.
function splitDomain (reference: string): [string, string] {
  const slash = reference.indexOf('/')
  if (slash < 0) return [DEFAULT_DOMAIN, OFFICIAL_PREFIX + reference]
  const first = reference.slice(0, slash)
  const rest = reference.slice(slash + 1)
  let domain: string
  let path: string
  if (first === 'localhost' || /[.:]/.test(first) || first.toLowerCase() !== first) {
    [domain, path] = [first === LEGACY_DEFAULT_DOMAIN ? DEFAULT_DOMAIN : first, rest]
  } else {
    [domain, path] = [DEFAULT_DOMAIN, reference]
  }
  // Only Docker Hub has the implicit library/ namespace: registry.test/nginx stays as it is.
  if (domain === DEFAULT_DOMAIN && !path.includes('/')) path = OFFICIAL_PREFIX + path
  return [domain, path]
}

function validDigest (digest: string): boolean {
  const colon = digest.indexOf(':')
  return DIGEST_ENCODED[digest.slice(0, colon)]?.test(digest.slice(colon + 1)) ?? false
}
