import { chmodSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import t from 'tap'
import { GIT_MISSING, gitVersion } from '../../../lib/git/git-version.js'
import { tempDir } from '../../helper.js'

/** A directory holding only a `git` that runs `script` with /bin/sh. */
function fakeGit (t: Parameters<typeof tempDir>[0], script: string): string {
  const dir = tempDir(t)
  writeFileSync(path.join(dir, 'git'), `#!/bin/sh\n${script}\n`)
  chmodSync(path.join(dir, 'git'), 0o755)
  return dir
}

t.test("git's version, when git runs", async t => {
  t.match(await gitVersion({ PATH: process.env.PATH! }), /^git version \d+\.\d+/)
})

t.test('no git on PATH: BH_GIT_MISSING', async t => {
  await t.rejects(gitVersion({ PATH: tempDir(t) }), { code: 'BH_GIT_MISSING', message: GIT_MISSING })
})

t.test('a git that fails, or never answers, is reported with what it did', async t => {
  await t.rejects(gitVersion({ PATH: fakeGit(t, 'echo "error while loading shared libraries" >&2; exit 127') }), {
    code: 'BH_GIT_MISSING',
    message: "git cannot be run: 'git --version' exited with code 127: error while loading shared libraries"
  })
  await t.rejects(gitVersion({ PATH: fakeGit(t, 'exit 1') }), { message: "git cannot be run: 'git --version' exited with code 1" })
  await t.rejects(gitVersion({ PATH: fakeGit(t, 'exec /bin/sleep 60') }, 200), { message: "git cannot be run: 'git --version' did not answer within 200 ms" })
})
