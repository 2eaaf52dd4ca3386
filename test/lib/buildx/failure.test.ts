import t from 'tap'
import { describeFailure } from '../../../lib/buildx/failure.js'

const context = { endpoint: 'tcp://buildkitd:1234', repositoryUrl: 'https://git.test/org/demo', commit: 'f'.repeat(40), location: 'api/Dockerfile' }
const exit1 = { code: 1, spawnError: null, aborted: false }

// Each message below is the real CLI's (shared/BUILDX-FACTS.md), as the double prints it.
t.test('docker missing from PATH, or not runnable', async t => {
  const enoent = Object.assign(new Error('spawn docker ENOENT'), { code: 'ENOENT' })
  t.equal(describeFailure({ code: null, spawnError: enoent, aborted: false }, [], context), "docker is not installed: no 'docker' executable on PATH")
  const eacces = Object.assign(new Error('spawn docker EACCES'), { code: 'EACCES' })
  t.equal(describeFailure({ code: null, spawnError: eacces, aborted: false }, [], context), 'cannot run docker: spawn docker EACCES')
})

t.test('the buildx plugin missing', async t => {
  t.equal(describeFailure(exit1, ["docker: 'buildx' is not a docker command.", "See 'docker --help'"], context), "the docker buildx plugin is not installed (docker: 'buildx' is not a docker command)")
})

t.test('BuildKit unreachable', async t => {
  t.equal(describeFailure(exit1, ['ERROR: failed to build: context deadline exceeded'], context), 'BuildKit is unreachable at tcp://buildkitd:1234 (context deadline exceeded)')
})

t.test('the registry refusing the push', async t => {
  t.equal(describeFailure(exit1, ['ERROR: failed to build: failed to solve: failed to push registry.test/demo/web:latest: push access denied, repository does not exist or may require authorization: server message: insufficient_scope: authorization failed'], context),
    'the registry refused the push of registry.test/demo/web:latest: not authorised (check the registry credentials in the Docker config)')
})

t.test('the registry unreachable', async t => {
  t.equal(describeFailure(exit1, ['ERROR: failed to build: failed to solve: failed to push registry.test/demo/web:latest: failed to do request: Head "https://registry.test/v2/demo/web/blobs/sha256:1": dial tcp 127.0.0.1:5000: connect: connection refused'], context),
    'the registry is unreachable: pushing registry.test/demo/web:latest failed (connection refused)')
})

t.test('a private repository without credentials', async t => {
  t.equal(describeFailure(exit1, ["fatal: could not read Username for 'https://git.test': terminal prompts disabled"], context),
    'BuildKit could not fetch https://git.test/org/demo: authentication required (set [projects.code] token_env, or GIT_TOKEN with the host in GIT_TOKEN_HOSTS)')
})

t.test('a commit that is not in the repository', async t => {
  t.equal(describeFailure(exit1, ['ERROR: failed to build: failed to solve: failed to load cache key: failed to checkout remote https://git.test/org/demo.git: git stderr:', `fatal: reference is not a tree: ${'f'.repeat(40)}`], context),
    `commit ${'f'.repeat(40)} was not found in https://git.test/org/demo`)
})

t.test('the Dockerfile missing at that commit', async t => {
  t.equal(describeFailure(exit1, ['ERROR: failed to build: failed to solve: failed to read dockerfile: open Dockerfile: no such file or directory'], context),
    "Dockerfile 'api/Dockerfile' not found in https://git.test/org/demo at commit ffffffffffff")
})

t.test('a failing step, with the last lines of its output', async t => {
  const lines = [
    '#5 [2/2] RUN make test',
    '#5 ERROR: process "/bin/sh -c make test" did not complete successfully: exit code: 2',
    '------', ' > [2/2] RUN make test:', '0.210 FAIL: TestCheckout (0.00s)', '0.211 make: *** [Makefile:4: test] Error 2', '------',
    'ERROR: failed to build: failed to solve: process "/bin/sh -c make test" did not complete successfully: exit code: 2'
  ]
  t.equal(describeFailure(exit1, lines, context), "build step 'RUN make test' failed with exit code 2: FAIL: TestCheckout (0.00s) | make: *** [Makefile:4: test] Error 2")
  t.equal(describeFailure(exit1, lines.slice(-1), context), "build step 'RUN make test' failed with exit code 2", 'without the fenced output')
  t.equal(describeFailure(exit1, [...lines.slice(0, 5)], context), "build step 'RUN make test' failed with exit code 2: FAIL: TestCheckout (0.00s)", 'an unterminated fence')
})

t.test('anything else: buildx\'s last ERROR line, shortened; or the exit status', async t => {
  t.equal(describeFailure(exit1, ['ERROR: failed to build: failed to solve: something new'], context), 'something new')
  t.equal(describeFailure(exit1, [`ERROR: ${'x'.repeat(600)}`], context).length, 500)
  t.equal(describeFailure({ code: 137, spawnError: null, aborted: false }, ['Killed'], context), 'docker exited with code 137')
})
