import { createHmac, timingSafeEqual } from 'node:crypto'
import t from 'tap'
import { configToml, harness, writeConfig } from '../helper.js'
import { deliver, HOST_REPOSITORY, HOSTS, pushPayload, type Host } from '../fixtures/webhooks/deliveries.js'

// Seeded random mutations of valid signed deliveries, for every host: bytes, headers, content types,
// truncation, nesting and huge fields. Whatever arrives: never a 5xx, the service stays healthy, and no
// build is ever recorded from a body that no signature of the request covers. Bounded in count and time.

const ITERATIONS = 1_200 // per host
const TIME_BUDGET_MS = 40_000 // for all hosts together, whatever the machine's load
const secretOf = (host: Host) => `${host}-fuzz-secret-Wc72`
const envName = (host: Host) => `${host.toUpperCase()}_WEBHOOK_SECRET`

/** mulberry32: small, fast and the same sequence for the same seed. */
function random (seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6D2B79F5) >>> 0
    let x = Math.imul(a ^ (a >>> 15), 1 | a)
    x = (x + Math.imul(x ^ (x >>> 7), 61 | x)) ^ x
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296
  }
}

const SIGNATURE_HEADERS = ['x-hub-signature-256', 'x-hub-signature', 'x-gitea-signature', 'x-forgejo-signature', 'x-gogs-signature']
const EVENT_HEADERS = ['x-github-event', 'x-gitlab-event', 'x-gitea-event', 'x-forgejo-event', 'x-gogs-event', 'x-event-key']
const CONTENT_TYPES = [
  'application/json', 'application/json; charset=utf-8', 'APPLICATION/JSON', 'application/x-www-form-urlencoded', 'text/plain',
  'application/octet-stream', undefined, 'application/json; charset=utf-16le', 'application/json; charset=bogus', 'multipart/form-data; boundary=x',
  'application/json;', ';;;', 'application/vnd.github+json', 'text/json'
]

function hmac (algorithm: 'sha256' | 'sha1', secret: string, body: Buffer): string {
  return createHmac(algorithm, secret).update(body).digest('hex')
}

function same (a: string, b: string): boolean {
  const x = Buffer.from(a)
  const y = Buffer.from(b)
  return x.length === y.length && timingSafeEqual(x, y)
}

// The header each host signs with, as the request's event headers make it that host (docs/contract.md: Forgejo, then
// Gitea, Gogs, GitHub, GitLab, Bitbucket), and the form of a valid value.
const SIGNED_BY: ReadonlyArray<[event: string, header: string, valid: (secret: string, body: Buffer) => string[]]> = [
  ['x-forgejo-event', 'x-forgejo-signature', (secret, body) => [hmac('sha256', secret, body)]],
  ['x-gitea-event', 'x-gitea-signature', (secret, body) => [hmac('sha256', secret, body)]],
  ['x-gogs-event', 'x-gogs-signature', (secret, body) => [hmac('sha256', secret, body)]],
  ['x-github-event', 'x-hub-signature-256', (secret, body) => [`sha256=${hmac('sha256', secret, body)}`]],
  ['x-gitlab-event', 'x-gitlab-token', secret => [secret]],
  ['x-event-key', 'x-hub-signature', (secret, body) => [`sha256=${hmac('sha256', secret, body)}`]]
]

/** Whether the header of the host the request claims to come from signs exactly these bytes (or is GitLab's token). */
function covered (headers: Record<string, string>, body: Buffer, secret: string): boolean {
  const signer = SIGNED_BY.find(([event]) => headers[event] !== undefined)
  if (signer === undefined) return false
  const value = headers[signer[1]]
  return value !== undefined && signer[2](secret, body).some(valid => same(valid, value))
}

function resign (host: Host, headers: Record<string, string>, body: Buffer): void {
  const secret = secretOf(host)
  const sha256 = hmac('sha256', secret, body)
  for (const name of SIGNATURE_HEADERS) {
    if (headers[name] === undefined) continue
    headers[name] = name === 'x-hub-signature' && headers[name]!.startsWith('sha1=') ? `sha1=${hmac('sha1', secret, body)}` : name === 'x-hub-signature-256' || name === 'x-hub-signature' ? `sha256=${sha256}` : sha256
  }
}

type Json = Record<string, unknown>

/** Every path to a value inside a JSON value (objects and arrays), up to a depth. */
function paths (value: unknown, prefix: Array<string | number> = [], depth = 0, out: Array<Array<string | number>> = []): Array<Array<string | number>> {
  if (depth > 6 || typeof value !== 'object' || value === null) return out
  for (const [key, child] of Array.isArray(value) ? value.entries() : Object.entries(value)) {
    const path = [...prefix, key]
    out.push(path)
    paths(child, path, depth + 1, out)
  }
  return out
}

// Deep nesting is spliced into the text: JSON.stringify itself would run out of stack on it.
const NESTED = '"@@nested@@"'
function withNesting (json: string, depth: number): string {
  return json.replace(NESTED, '[{"a":'.repeat(depth) + '0' + '}]'.repeat(depth))
}

/** The payload with one value replaced by something odd (or removed), as JSON text. */
function mutateJson (payload: Json, next: () => number): string {
  const copy = JSON.parse(JSON.stringify(payload)) as Json
  const all = paths(copy)
  const target = all[Math.floor(next() * all.length)]!
  let parent: Record<string | number, unknown> = copy
  for (const key of target.slice(0, -1)) parent = parent[key] as Record<string | number, unknown>
  const key = target[target.length - 1]!
  const values: unknown[] = [null, 0, -1, 1e308, true, '', 'x'.repeat(1 + Math.floor(next() * 2_000_000)), [], {}, '0'.repeat(40), 'refs/heads/main', '\u0000\ud800', JSON.parse('{"__proto__": {"polluted": true}}'), JSON.parse(NESTED)]
  if (next() < 0.2) delete parent[key]
  else parent[key] = values[Math.floor(next() * values.length)]
  return withNesting(JSON.stringify(copy), 1 + Math.floor(next() * 20_000))
}

t.test('fuzzing the hook: no 5xx, still healthy, and no build from a body no signature covers', async t => {
  const toml = configToml(HOSTS.map(host => ({ slug: host, url: HOST_REPOSITORY[host], extra: `[projects.webhook]\nsecret_env = "${envName(host)}"\n` })))
  const secrets = Object.fromEntries(HOSTS.map(host => [envName(host), secretOf(host)]))
  // BuildKit is never reachable: recorded builds stay queued instead of running thousands of builds.
  const { app } = await harness(t, { CONFIG_PATH: writeConfig(t, toml), BUILDKIT_HOST: 'tcp://127.0.0.1:9', ...secrets })
  const perHost = new Map<Host, number>()
  const problems: string[] = []
  let recorded = 0
  let sent = 0
  const statuses = new Map<number, number>()

  for (const [h, host] of HOSTS.entries()) {
    const seed = 0xB0117 + h
    const next = random(seed)
    const pick = <T>(list: readonly T[]): T => list[Math.floor(next() * list.length)]!
    const base = pushPayload(host, { commit: 'c'.repeat(40) })
    const deadline = Date.now() + TIME_BUDGET_MS / HOSTS.length // each host gets its share, whatever the load
    for (let i = 0; i < ITERATIONS && Date.now() < deadline; i++) {
      const commit = Math.floor(next() * 0xFFFFFFFF).toString(16).padStart(8, '0').repeat(5)
      const payload = next() < 0.5 ? mutateJson({ ...base, ...pushPayload(host, { commit }) }, next) : pushPayload(host, { commit })
      const delivery = deliver(host, payload, secretOf(host), { form: (host === 'github' || host === 'gitea') && next() < 0.2 })
      const headers: Record<string, string> = { ...delivery.headers }
      let body = Buffer.from(delivery.body)
      const mutations: string[] = []
      const count = 1 + Math.floor(next() * 3)
      for (let m = 0; m < count; m++) {
        switch (Math.floor(next() * 11)) {
          case 0: { // flip bytes, leaving the signature as it was
            body = Buffer.from(body)
            for (let k = 0; k < 1 + Math.floor(next() * 4) && body.length > 0; k++) body[Math.floor(next() * body.length)] = Math.floor(next() * 256)
            mutations.push('bytes')
            break
          }
          case 1: body = body.subarray(0, Math.floor(next() * body.length)); mutations.push('truncated'); break
          case 2: resign(host, headers, body); mutations.push('re-signed'); break
          case 3: { // another content type
            const type = pick(CONTENT_TYPES)
            if (type === undefined) delete headers['content-type']
            else headers['content-type'] = type
            mutations.push(`type ${String(type)}`)
            break
          }
          case 4: { // a signature removed, emptied or garbled
            const name = pick([...SIGNATURE_HEADERS, 'x-gitlab-token'])
            const what = pick(['remove', 'empty', 'garble', 'huge'])
            if (what === 'remove') delete headers[name]
            else if (headers[name] !== undefined || what === 'huge') headers[name] = what === 'empty' ? '' : what === 'huge' ? 'f'.repeat(8_000) : headers[name]!.replace(/.$/, c => c === '0' ? '1' : '0')
            mutations.push(`signature ${what} ${name}`)
            break
          }
          case 5: { // another host's event header, or an event that is not a push
            const name = pick(EVENT_HEADERS)
            headers[name] = pick(['push', 'Push Hook', 'repo:push', 'ping', 'delete', 'repo:refs_changed', 'diagnostics:ping', '', 'x'.repeat(500)])
            mutations.push(`event ${name}`)
            break
          }
          case 6: body = Buffer.concat([body, Buffer.from(pick([' ', '\n', '}', '{"a":1}', '\u0000', '\uFEFF']))]); mutations.push('appended'); break
          case 7: body = Buffer.alloc(0); mutations.push('empty body'); break
          case 8: { // a delivery id that is huge, empty or repeated
            for (const name of ['x-github-delivery', 'x-gitea-delivery', 'x-forgejo-delivery', 'x-gogs-delivery', 'x-request-uuid', 'idempotency-key']) {
              if (headers[name] !== undefined) headers[name] = pick(['', 'same-delivery', 'd'.repeat(4_000)])
            }
            mutations.push('delivery id')
            break
          }
          case 9: { // the signature of an empty body, sent with a body and (often) a type no parser keeps as bytes
            resign(host, headers, Buffer.alloc(0))
            if (next() < 0.5) headers['content-type'] = pick(['text/plain', 'application/octet-stream', 'text/plain; charset=utf-8'])
            mutations.push(`signed as empty, ${headers['content-type']}`)
            break
          }
          case 10: body = Buffer.from(deliver(host, pushPayload(host, { commit: 'e'.repeat(40) }), secretOf(host)).body); mutations.push('another push, not re-signed'); break
        }
      }
      const res = await app.inject({ method: 'POST', url: `/${host}`, headers, payload: body })
      sent++
      perHost.set(host, (perHost.get(host) ?? 0) + 1)
      statuses.set(res.statusCode, (statuses.get(res.statusCode) ?? 0) + 1)
      const where = `${host} seed ${seed} iteration ${i} (${mutations.join(', ')})`
      if (res.statusCode >= 500) problems.push(`${where}: ${res.statusCode} ${res.body}`)
      let answer: { id?: number, duplicate?: boolean } = {}
      try {
        answer = JSON.parse(res.body) as typeof answer
      } catch {
        problems.push(`${where}: a body that is not JSON: ${res.body.slice(0, 200)}`)
      }
      const built = res.statusCode === 202 || answer.duplicate === true
      if (res.statusCode === 202) recorded++
      if (built && !covered(headers, body, secretOf(host))) problems.push(`${where}: ${res.statusCode} for a body no signature covers`)
    }
  }

  t.same(problems.slice(0, 20), [], `${problems.length} problems in ${sent} deliveries`)
  t.ok(HOSTS.every(host => (perHost.get(host) ?? 0) >= 20), `every host fuzzed: ${JSON.stringify(Object.fromEntries(perHost))} (${JSON.stringify(Object.fromEntries(statuses))})`)
  t.ok((statuses.get(202) ?? 0) > 0 && (statuses.get(401) ?? 0) > 0 && (statuses.get(415) ?? 0) > 0 && (statuses.get(400) ?? 0) > 0, 'the mutations reached builds, refusals, 415s and 400s')
  const health = await app.inject({ method: 'GET', url: '/health' })
  t.same([health.statusCode, health.json()], [200, { status: 'ok' }], 'the service is still healthy')
  t.equal(app.store.list({ limit: 100_000 }).builds.length, recorded, 'one build recorded for each 202 answered')
})
