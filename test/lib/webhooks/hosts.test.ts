import t from 'tap'
import { bitbucket } from '../../../lib/webhooks/bitbucket.js'
import { decodePayload, unsupportedMediaType } from '../../../lib/webhooks/body.js'
import { NORMALISED_URL_LENGTH_KEPT, NORMALISED_URLS_KEPT, normalisedUrlsKept, normaliseRepositoryUrl } from '../../../lib/webhooks/decide.js'
import { gitea } from '../../../lib/webhooks/gitea.js'
import { github } from '../../../lib/webhooks/github.js'
import { gitlab } from '../../../lib/webhooks/gitlab.js'
import { detectHost, HOSTS, missingEventHeader } from '../../../lib/webhooks/hosts.js'
import { hmacHex, safeEqual } from '../../../lib/webhooks/signature.js'
import { interpretTrigger } from '../../../lib/webhooks/trigger-request.js'
import { header, ZERO_SHA } from '../../../lib/webhooks/types.js'
import { parseConfig } from '../../../lib/config/index.js'
import { Redactor } from '../../../lib/secrets/redactor.js'
import { configToml } from '../../helper.js'

const NO_SECRETS = new Redactor([])

const SHA = 'a'.repeat(40)

t.test('a payload without what its host always sends is a 400 naming the field', async t => {
  const push = { 'x-github-event': 'push' }
  t.throws(() => github.parse(push, { ref: 'refs/heads/main' }), { name: 'WebhookPayloadError', message: 'after must be a non-empty string' })
  t.throws(() => github.parse(push, { ref: 'refs/heads/main', after: 'abc' }), { message: 'after must be a 40-hex commit SHA' })
  t.throws(() => github.parse(push, { after: SHA }), { message: 'ref must be a non-empty string' })
  const bb = { 'x-event-key': 'repo:push' }
  t.throws(() => bitbucket.parse(bb, {}), { message: 'push must be an object' })
  t.throws(() => bitbucket.parse(bb, { push: { changes: {} } }), { message: 'push.changes must be an array' })
  t.throws(() => bitbucket.parse(bb, { push: { changes: [null] } }), { message: 'push.changes[0] must be an object' })
  t.throws(() => bitbucket.parse(bb, { push: { changes: [{ new: { name: 'main', type: 'branch', target: {} } }] } }), { message: 'push.changes[0].new.target.hash must be a non-empty string' })
  t.throws(() => decodePayload(Buffer.from('[1]'), 'application/json'), { message: 'the body must be an object' })
})

t.test('what each host leaves out has a fallback', async t => {
  t.match(github.parse({ 'x-github-event': 'push' }, { ref: 'refs/heads/main', after: SHA }), { delivery: null, sender: null, repositoryUrls: [] })
  t.match(gitlab.parse({ 'x-gitlab-event': 'Push Hook', 'x-gitlab-event-uuid': 'u-1' }, { object_kind: 'push', ref: 'refs/heads/main', after: SHA }), { delivery: 'u-1', updates: [{ commit: SHA }] }, 'no Idempotency-Key: the event UUID; no checkout_sha: after')
  t.match(gitlab.parse({ 'x-gitlab-event': 'Push Hook' }, { object_kind: 'push', ref: 'refs/heads/main', after: ZERO_SHA, checkout_sha: null }), { delivery: null, updates: [{ commit: null, deleted: true }] })
  t.match(gitlab.parse({ 'x-gitlab-event': 'System Hook' }, { object_kind: 'push', ref: 'refs/heads/main', after: SHA, checkout_sha: 'B'.repeat(40) }), { kind: 'push', updates: [{ commit: 'b'.repeat(40) }] }, 'system hooks carry pushes too')
  t.match(gitea.parse({ 'x-gitea-event': 'push' }, { ref: 'refs/heads/main', after: SHA, sender: { username: 'someone' } }), { delivery: null, sender: 'someone' })
  t.match(gitea.parse({ 'x-gitea-event': 'push' }, { ref: 'refs/heads/main', after: ZERO_SHA }), { sender: null, updates: [{ deleted: true, commit: null }] })
  t.match(bitbucket.parse({ 'x-event-key': 'repo:push' }, { actor: { display_name: 'Emma' }, push: { changes: [{ old: { name: 'v1', type: 'tag' }, new: null }] } }), { delivery: null, sender: 'Emma', updates: [{ ref: 'refs/tags/v1', deleted: true }] })
  t.match(bitbucket.parse({ 'x-event-key': 'repo:fork' }, {}), { kind: 'other', sender: null })
})

t.test('headers: the first of a repeated header counts, and hosts are told apart in order', async t => {
  t.equal(header({ 'x-a': ['one', 'two'] }, 'x-a'), 'one')
  t.equal(detectHost({ 'x-forgejo-event': 'push', 'x-gitea-event': 'push', 'x-github-event': 'push' })?.source, 'forgejo')
  t.equal(detectHost({ 'x-gogs-event': 'push', 'x-github-event': 'push' })?.source, 'gogs')
  t.equal(detectHost({ authorization: 'Bearer x' }), undefined)
})

t.test('signatures compare in constant time and never match across lengths', async t => {
  t.ok(safeEqual('abc', 'abc'))
  t.notOk(safeEqual('abc', 'abd'))
  t.notOk(safeEqual('ab', 'abc'))
  t.equal(hmacHex('sha256', 'It\'s a Secret to Everybody', Buffer.from('Hello, World!')), '757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17', "GitHub's documented test vector")
})

t.test('repository URLs compare by host and path, whatever their form', async t => {
  const same = ['https://github.com/Octo-Org/Hello-World', 'https://github.com/octo-org/hello-world.git', 'http://github.com/octo-org/hello-world/', 'git@github.com:octo-org/hello-world.git', 'ssh://git@github.com/octo-org/hello-world.git', 'https://token@github.com/octo-org/hello-world']
  t.same(new Set(same.map(normaliseRepositoryUrl)), new Set(['github.com/octo-org/hello-world']))
  t.equal(normaliseRepositoryUrl('not a url/'), 'not a url')
  // Reduced once and kept: asked again, the same answer.
  t.same(new Set(same.map(normaliseRepositoryUrl)), new Set(['github.com/octo-org/hello-world']))
})

t.test('the reduced URLs kept stay few and short: past the limit they are forgotten, and reduced again when asked', async t => {
  const long = `https://git.test/org/${'r'.repeat(NORMALISED_URL_LENGTH_KEPT)}`
  const before = normalisedUrlsKept()
  t.equal(normaliseRepositoryUrl(long), `git.test/org/${'r'.repeat(NORMALISED_URL_LENGTH_KEPT)}`)
  t.equal(normalisedUrlsKept(), before, 'a long URL is reduced, not kept')
  for (let i = 0; i < NORMALISED_URLS_KEPT; i++) t.equal(normaliseRepositoryUrl(`https://git.test/org/repo-${i}.git`), `git.test/org/repo-${i}`)
  t.ok(normalisedUrlsKept() <= NORMALISED_URLS_KEPT)
  t.equal(normaliseRepositoryUrl('https://git.test/org/one-more.git'), 'git.test/org/one-more')
  t.ok(normalisedUrlsKept() <= NORMALISED_URLS_KEPT, `${normalisedUrlsKept()} kept`)
  t.equal(normaliseRepositoryUrl('https://GIT.test/org/repo-0/'), 'git.test/org/repo-0')
  t.equal(normaliseRepositoryUrl('https://git.test/org/repo-0.git'), 'git.test/org/repo-0')
})

t.test('a delivery without a body is read as an empty payload', async t => {
  const project = parseConfig(configToml(), 'test.toml').projects[0]!
  t.throws(() => interpretTrigger({ 'x-github-event': 'push' }, undefined, project, NO_SECRETS), { name: 'WebhookPayloadError', message: 'the body is not valid JSON' })
  t.same(interpretTrigger({}, undefined, project, NO_SECRETS), { action: 'build', trigger: { source: 'api', event: 'trigger' } })
  t.same(interpretTrigger({}, Buffer.alloc(0), project, NO_SECRETS), { action: 'build', trigger: { source: 'api', event: 'trigger' } })
})

t.test('a push that names no repository or no ref is ignored, saying so', async t => {
  const { decide } = await import('../../../lib/webhooks/decide.js')
  const project = parseConfig(configToml(), 'test.toml').projects[0]!
  const base = { source: 'github' as const, event: 'push', kind: 'push' as const, delivery: null, sender: null }
  t.same(decide({ ...base, updates: [], repositoryUrls: [] }, project), { action: 'ignored', reason: `the push is for an unnamed repository, not ${project.code.url}` })
  t.same(decide({ ...base, updates: [], repositoryUrls: [project.code.url] }, project), { action: 'ignored', reason: 'push to no ref, not refs/heads/main' })
})

t.test('a verified body is decoded in the charset its Content-Type names', async t => {
  const json = '{"name":"zoë"}'
  t.same(decodePayload(Buffer.from(json), 'application/json; charset=UTF-8'), { name: 'zoë' })
  t.same(decodePayload(Buffer.from(json), 'application/json; charset="utf8"'), { name: 'zoë' })
  t.same(decodePayload(Buffer.from(json, 'latin1'), 'application/json; charset=iso-8859-1'), { name: 'zoë' })
  t.same(decodePayload(Buffer.from(json, 'utf16le'), 'application/json;charset=utf-16le'), { name: 'zoë' })
  t.throws(() => decodePayload(Buffer.from(json), 'application/json; charset=klingon'), { name: 'UnsupportedCharsetError', message: "charset 'klingon' is not supported" })
})

t.test('a request with no signature header of any host is no stray delivery', async t => {
  t.equal(missingEventHeader({ authorization: 'Bearer x', 'content-type': 'application/json' }), undefined)
})

t.test("each host's signature headers and event header are the ones it detects by and verifies", async t => {
  for (const host of HOSTS) {
    t.ok(host.detect({ [host.eventHeader.toLowerCase()]: 'push' }), host.source)
    t.match(missingEventHeader(Object.fromEntries(host.signatureHeaders.map(name => [name.toLowerCase(), 'x']))), `a ${host.name} delivery needs ${host.eventHeader}`, host.source)
  }
})

t.test('the 415 message names the media type received, without its parameters and at most 100 characters', async t => {
  const accepted = 'send application/json (any charset) or application/x-www-form-urlencoded'
  t.equal(unsupportedMediaType('Text/Plain ; charset=utf-8'), `unsupported content type Text/Plain: ${accepted}`)
  t.equal(unsupportedMediaType(`text/${'x'.repeat(200)}`), `unsupported content type text/${'x'.repeat(95)}: ${accepted}`)
  for (const none of [undefined, '', ' ; charset=utf-8']) t.equal(unsupportedMediaType(none), `a body needs a content type: ${accepted}`, String(none))
})

t.test('Bitbucket Server: refId when ref is absent (older servers), displayName when name is, X-Request-Id as the delivery', async t => {
  const headers = { 'x-event-key': 'repo:refs_changed', 'x-request-id': 'r-1' }
  t.same(bitbucket.parse(headers, { actor: { displayName: 'Admin' }, repository: { links: { clone: [{ href: 'ssh://git@bb.example:7999/p/r.git' }, { name: 'no href' }], self: 'not a list' } }, changes: [{ refId: 'refs/heads/main', toHash: SHA, type: 'UPDATE' }] }), {
    source: 'bitbucket',
    event: 'repo:refs_changed',
    delivery: 'r-1',
    kind: 'push',
    sender: 'Admin',
    repositoryUrls: ['ssh://git@bb.example:7999/p/r.git'],
    updates: [{ ref: 'refs/heads/main', commit: SHA, deleted: false }]
  })
  t.match(bitbucket.parse(headers, { changes: [{ ref: { id: 'refs/tags/v1' }, toHash: ZERO_SHA, type: 'DELETE' }] }), { sender: null, repositoryUrls: [], updates: [{ ref: 'refs/tags/v1', commit: null, deleted: true }] })
  t.match(bitbucket.parse({ 'x-event-key': 'repo:push', 'x-request-uuid': 'c-1', 'x-request-id': 'r-2' }, { push: { changes: [] } }), { delivery: 'c-1' }, "Cloud's X-Request-UUID first")
})
