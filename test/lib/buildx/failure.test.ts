import t from 'tap'
import { BUILDER_OUTAGES, BUILDX_MISSING, classifyFailure, describeBuilderFailure } from '../../../lib/buildx/failure.js'

const context = { endpoint: 'tcp://buildkitd:1234', repositoryUrl: 'https://git.test/org/demo', commit: 'f'.repeat(40), location: 'api/Dockerfile' }
const exit1 = { code: 1, spawnError: null, aborted: false }
const SHA = 'f'.repeat(40)
// What every first build prints before it gets anywhere: an ERROR line that must decide nothing.
const PROGRESS = [
  '#0 building with "build-hook" instance using remote driver',
  '#4 importing cache manifest from registry.test/demo/web:buildcache',
  '#4 ERROR: failed to configure registry cache importer: registry.test/demo/web:buildcache: not found',
  '#4 DONE 0.0s'
]

// Each message below is the real CLI's (docs/buildx-facts.md), as the double prints it.
t.test('docker missing from PATH, or not runnable', async t => {
  const enoent = Object.assign(new Error('spawn docker ENOENT'), { code: 'ENOENT' })
  t.same(classifyFailure({ code: null, spawnError: enoent, aborted: false }, [], context), { reason: 'docker-missing', message: "docker is not installed: no 'docker' executable on PATH" })
  const eacces = Object.assign(new Error('spawn docker EACCES'), { code: 'EACCES' })
  t.same(classifyFailure({ code: null, spawnError: eacces, aborted: false }, [], context), { reason: 'docker-missing', message: 'cannot run docker: spawn docker EACCES' })
})

t.test('the buildx plugin missing, for a command with flags: docker 28 fails on the first flag its root command lacks, exit 125', async t => {
  t.equal(BUILDX_MISSING, "the docker buildx plugin is not installed: docker has no 'buildx' command (install your distribution's docker-buildx-plugin package, or put the docker-buildx binary in ~/.docker/cli-plugins/ or, with DOCKER_CONFIG set, in $DOCKER_CONFIG/cli-plugins/)")
  const lines = ['unknown flag: --format', '', 'Usage:  docker [OPTIONS] COMMAND [ARG...]', '', "Run 'docker --help' for more information"]
  t.same(classifyFailure({ code: 125, spawnError: null, aborted: false }, lines, context), { reason: 'buildx-missing', message: BUILDX_MISSING })
})

t.test('the buildx plugin missing, for a command without flags: docker 28 reports an unknown command, exit 1', async t => {
  t.same(classifyFailure(exit1, ['docker: unknown command: docker buildx', '', "Run 'docker --help' for more information"], context), { reason: 'buildx-missing', message: BUILDX_MISSING })
})

t.test('the buildx plugin missing, as docker before 23 said it', async t => {
  t.same(classifyFailure(exit1, ["docker: 'buildx' is not a docker command.", "See 'docker --help'"], context), { reason: 'buildx-missing', message: BUILDX_MISSING })
})

t.test('an exit 125 without docker\'s own usage line is not taken for a missing plugin', async t => {
  t.same(classifyFailure({ code: 125, spawnError: null, aborted: false }, ['unknown flag: --format'], context), { reason: 'unknown', message: 'docker exited with code 125' })
})

t.test('BuildKit unreachable: the build, or the bootstrap, gave up dialling it', async t => {
  const expected = { reason: 'builder-unreachable', message: 'BuildKit is unreachable at tcp://buildkitd:1234 (context deadline exceeded)' }
  t.same(classifyFailure(exit1, ['ERROR: failed to build: context deadline exceeded'], context), expected)
  t.same(classifyFailure(exit1, ['ERROR: context deadline exceeded'], context), expected)
  t.equal(describeBuilderFailure(exit1, ['ERROR: context deadline exceeded'], context.endpoint), expected.message, 'as the builder\'s own commands say it')
})

t.test('BuildKit dying during the build loses the connection', async t => {
  const lines = [...PROGRESS, '#6 [2/2] RUN make', '#6 0.042 building', 'ERROR: failed to build: failed to receive status: rpc error: code = Unavailable desc = error reading from server: EOF']
  t.same(classifyFailure(exit1, lines, context), {
    reason: 'builder-connection-lost',
    message: 'the connection to BuildKit at tcp://buildkitd:1234 was lost during the build (error reading from server: EOF)'
  })
})

t.test('only the two BuildKit failures are outages that run the build again', async t => {
  t.same([...BUILDER_OUTAGES].sort(), ['builder-connection-lost', 'builder-unreachable'])
})

t.test('the registry refusing the push', async t => {
  t.same(classifyFailure(exit1, ['ERROR: failed to build: failed to solve: failed to push registry.test/demo/web:latest: push access denied, repository does not exist or may require authorization: server message: insufficient_scope: authorization failed'], context), {
    reason: 'push-denied',
    message: 'the registry refused the push of registry.test/demo/web:latest: not authorised (check the registry credentials in the Docker config)'
  })
})

t.test('the registry unreachable is the registry, not BuildKit', async t => {
  t.same(classifyFailure(exit1, [...PROGRESS, 'ERROR: failed to build: failed to solve: failed to push registry.test/demo/web:latest: failed to do request: Head "https://registry.test/v2/demo/web/blobs/sha256:1": dial tcp 127.0.0.1:5000: connect: connection refused'], context), {
    reason: 'push-failed',
    message: 'the registry is unreachable: pushing registry.test/demo/web:latest failed (connection refused)'
  })
  t.same(classifyFailure(exit1, ['ERROR: failed to build: failed to solve: failed to push registry.test/demo/web:latest: unexpected status from HEAD request: 502 Bad Gateway'], context), {
    reason: 'push-failed',
    message: 'pushing registry.test/demo/web:latest failed: unexpected status from HEAD request: 502 Bad Gateway'
  }, 'an answer of another kind is quoted')
})

t.test('a base image whose registry refuses connections is a pull failure, not BuildKit', async t => {
  const lines = [
    ...PROGRESS,
    '#2 [internal] load metadata for docker.io/library/alpine:3.20',
    '#2 ERROR: failed to do request: Head "https://registry-1.docker.io/v2/library/alpine/manifests/3.20": dial tcp 127.0.0.1:443: connect: connection refused',
    '------', ' > [internal] load metadata for docker.io/library/alpine:3.20:', '------',
    'ERROR: failed to build: failed to solve: alpine:3.20: failed to resolve source metadata for docker.io/library/alpine:3.20: failed to do request: Head "https://registry-1.docker.io/v2/library/alpine/manifests/3.20": dial tcp 127.0.0.1:443: connect: connection refused'
  ]
  t.same(classifyFailure(exit1, lines, context), {
    reason: 'base-image-pull-failed',
    message: 'the base image docker.io/library/alpine:3.20 could not be pulled (connection refused): check the FROM line and that its registry is reachable from BuildKit'
  })
})

t.test('a base image that does not exist, or may not be pulled', async t => {
  t.same(classifyFailure(exit1, ['ERROR: failed to build: failed to solve: alpine:3.99: failed to resolve source metadata for docker.io/library/alpine:3.99: docker.io/library/alpine:3.99: not found'], context), {
    reason: 'base-image-pull-failed',
    message: 'the base image docker.io/library/alpine:3.99 could not be pulled (not found): check the FROM line and that its registry is reachable from BuildKit'
  })
  t.match(classifyFailure(exit1, ['ERROR: failed to build: failed to solve: org/private:1: failed to resolve source metadata for docker.io/org/private:1: pull access denied, repository does not exist or may require authorization: server message: insufficient_scope: authorization failed'], context),
    { reason: 'base-image-pull-failed', message: /^the base image docker\.io\/org\/private:1 could not be pulled \(not authorised\)/ })
})

t.test('a private repository without credentials', async t => {
  t.same(classifyFailure(exit1, ["fatal: could not read Username for 'https://git.test': terminal prompts disabled"], context), {
    reason: 'git-auth',
    message: 'BuildKit could not fetch https://git.test/org/demo: authentication required (set [projects.code] token_env, or GIT_TOKEN with the host in GIT_TOKEN_HOSTS)'
  })
})

t.test('a Git host that is down is a fetch failure, not BuildKit', async t => {
  const fatal = "fatal: unable to access 'https://git.test/org/demo.git/': Failed to connect to git.test port 443 after 0 ms: Connection refused"
  t.same(classifyFailure(exit1, [`ERROR: failed to build: failed to solve: failed to load cache key: failed to fetch remote https://git.test/org/demo.git: git stderr:`, fatal, ': exit status 128'], context), {
    reason: 'git-fetch-failed',
    message: "BuildKit could not fetch https://git.test/org/demo: unable to access 'https://git.test/org/demo.git/': Failed to connect to git.test port 443 after 0 ms: Connection refused (is the Git host up and reachable from BuildKit?)"
  })
  t.same(classifyFailure(exit1, ['ERROR: failed to build: failed to solve: failed to fetch remote https://git.test/org/demo.git: exit status 128'], context), {
    reason: 'git-fetch-failed',
    message: 'BuildKit could not fetch https://git.test/org/demo: git failed (is the Git host up and reachable from BuildKit?)'
  }, 'without git\'s own line')
})

t.test('a commit that is not in the repository', async t => {
  const expected = { reason: 'commit-not-found', message: `commit ${SHA} was not found in https://git.test/org/demo` }
  t.same(classifyFailure(exit1, ['ERROR: failed to build: failed to solve: failed to load cache key: failed to checkout remote https://git.test/org/demo.git: git stderr:', `fatal: reference is not a tree: ${SHA}`], context), expected)
  t.same(classifyFailure(exit1, ['ERROR: failed to build: failed to solve: failed to load cache key: repository does not contain ref 2a46112'], context), expected)
})

t.test('the Dockerfile missing at that commit', async t => {
  t.same(classifyFailure(exit1, ['ERROR: failed to build: failed to solve: failed to read dockerfile: open Dockerfile: no such file or directory'], context),
    { reason: 'dockerfile-not-found', message: "Dockerfile 'api/Dockerfile' not found in https://git.test/org/demo at commit ffffffffffff" })
})

t.test('a failing step, with the last lines of its output', async t => {
  const lines = [
    '#5 [2/2] RUN make test',
    '#5 ERROR: process "/bin/sh -c make test" did not complete successfully: exit code: 2',
    '------', ' > [2/2] RUN make test:', '0.210 FAIL: TestCheckout (0.00s)', '0.211 make: *** [Makefile:4: test] Error 2', '------',
    'ERROR: failed to build: failed to solve: process "/bin/sh -c make test" did not complete successfully: exit code: 2'
  ]
  t.same(classifyFailure(exit1, lines, context), { reason: 'step-failed', message: "build step 'RUN make test' failed with exit code 2: FAIL: TestCheckout (0.00s) | make: *** [Makefile:4: test] Error 2" })
  t.equal(classifyFailure(exit1, lines.slice(-1), context).message, "build step 'RUN make test' failed with exit code 2", 'without the fenced output')
  t.equal(classifyFailure(exit1, [...lines.slice(0, 5)], context).message, "build step 'RUN make test' failed with exit code 2: FAIL: TestCheckout (0.00s)", 'an unterminated fence')
})

t.test('a step that prints "connection refused" or a deadline is the step\'s failure', async t => {
  const lines = [
    '#5 [2/2] RUN curl http://db:5432', '#5 0.100 curl: (7) Failed to connect: connection refused', '#5 0.101 context deadline exceeded',
    'ERROR: failed to build: failed to solve: process "/bin/sh -c curl http://db:5432" did not complete successfully: exit code: 7'
  ]
  t.equal(classifyFailure(exit1, lines, context).reason, 'step-failed')
})

t.test('anything else: buildx\'s last ERROR line, shortened; or the exit status', async t => {
  t.same(classifyFailure(exit1, ['ERROR: failed to build: failed to solve: something new'], context), { reason: 'unknown', message: 'something new' })
  t.same(classifyFailure(exit1, ['ERROR: failed to build: connection refused'], context), { reason: 'unknown', message: 'connection refused' }, 'a refused connection alone names nobody: not taken for BuildKit')
  t.equal(classifyFailure(exit1, [`ERROR: ${'x'.repeat(600)}`], context).message.length, 500)
  t.same(classifyFailure({ code: 137, spawnError: null, aborted: false }, ['Killed'], context), { reason: 'unknown', message: 'docker exited with code 137' })
})

t.test("the builder's own commands are described without a build's context: their errors are never read as a repository's or a push's", async t => {
  t.equal(describeBuilderFailure(exit1, ['ERROR: Authentication failed for https://proxy.test'], context.endpoint), 'Authentication failed for https://proxy.test')
  t.equal(describeBuilderFailure(exit1, ['ERROR: failed to push cache: no'], context.endpoint), 'failed to push cache: no')
  t.equal(describeBuilderFailure(exit1, ['ERROR: failed to build: failed to receive status: rpc error: code = Unavailable desc = EOF'], context.endpoint), `the connection to BuildKit at ${context.endpoint} was lost (EOF)`, 'not "during the build": there is none')
  t.equal(describeBuilderFailure({ code: 137, spawnError: null, aborted: false }, ['Killed'], context.endpoint), 'docker exited with code 137')
})
