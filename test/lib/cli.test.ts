import t from 'tap'
import { main } from '../../lib/cli/main.js'
import { MINIMAL_CONFIG, SAMPLE_CONFIG, writeConfig } from '../helper.js'
import { runTs } from '../process.js'

async function run (argv: string[], env: Record<string, string | undefined> = {}): Promise<{ code: number, stdout: string, stderr: string }> {
  let stdout = ''
  let stderr = ''
  const code = await main(argv, { stdout: text => { stdout += text }, stderr: text => { stderr += text }, env })
  return { code, stdout, stderr }
}

t.test('check-config accepts a valid file and summarises it', async t => {
  const file = writeConfig(t, MINIMAL_CONFIG)
  t.same(await run(['check-config', file]), { code: 0, stdout: `${file}: OK (1 project: demo; 1 image)\n`, stderr: '' })
})

t.test('check-config reads $CONFIG_PATH when no file is given', async t => {
  const result = await run(['check-config'], { CONFIG_PATH: SAMPLE_CONFIG })
  t.equal(result.code, 0)
  t.match(result.stdout, `${SAMPLE_CONFIG}: OK (1 project: example-app; 2 images)`)
})

t.test('check-config falls back to ./config.toml', async t => {
  const result = await run(['check-config'], {})
  t.equal(result.code, 0, 'the repository root holds the sample config')
  t.match(result.stdout, `${SAMPLE_CONFIG}: OK`)
})

t.test('check-config lists every problem and exits 1', async t => {
  const file = writeConfig(t, MINIMAL_CONFIG.replace('branch = "main"', 'brnach = "main"'))
  t.same(await run(['check-config', file]), {
    code: 1,
    stdout: '',
    stderr: `Invalid configuration in ${file} (2 problems):\n  - projects[0].code.branch: is required\n  - projects[0].code.brnach: unknown key (did you mean 'branch'?)\n`
  })
})

t.test('check-config reports a missing file and a syntax error with exit 1', async t => {
  const missing = await run(['check-config', '/nonexistent/config.toml'])
  t.same(missing, { code: 1, stdout: '', stderr: 'Configuration file not found: /nonexistent/config.toml (set CONFIG_PATH to its location)\n' })
  const file = writeConfig(t, '[app\n')
  const syntax = await run(['check-config', file])
  t.equal(syntax.code, 1)
  t.match(syntax.stderr, `TOML syntax error in ${file}:1:5: unexpected end of the line — expected whitespace, . or ]`)
})

t.test('usage errors exit 2; help exits 0', async t => {
  t.match(await run([]), { code: 2, stdout: '', stderr: /^usage: build-hook <command>/ })
  t.match(await run(['frobnicate']), { code: 2, stderr: /^build-hook: unknown command 'frobnicate'\n\nusage:/ })
  t.match(await run(['check-config', 'a.toml', 'b.toml']), { code: 2, stderr: /^usage: build-hook check-config \[FILE\]/ })
  for (const help of ['help', '--help', '-h']) t.match(await run([help]), { code: 0, stdout: /check-config \[FILE\]/ }, help)
})

t.test('the installed command exits with the same codes as a real process', async t => {
  const good = runTs(t, 'bin/build-hook.ts', ['check-config', SAMPLE_CONFIG], {})
  t.same(await good.exited, { code: 0, signal: null })
  t.match(good.stdout(), /: OK \(/)
  const file = writeConfig(t, MINIMAL_CONFIG.replace('location = "Dockerfile"', 'location = "/Dockerfile"'))
  const bad = runTs(t, 'bin/build-hook.ts', ['check-config', file], {})
  t.same(await bad.exited, { code: 1, signal: null })
  t.equal(bad.stderr(), `Invalid configuration in ${file} (1 problem):\n  - projects[0].image[0].location: must be a relative path without '..'\n`)
  const usage = runTs(t, 'bin/build-hook.ts', [], {})
  t.same(await usage.exited, { code: 2, signal: null })
})

t.test('check-config reports each variable the config names that its environment lacks, and exits 1', async t => {
  const toml = MINIMAL_CONFIG.replace('branch = "main"', 'branch = "main"\ntoken_env = "GIT_TOKEN_A"') +
    '[projects.webhook]\nsecret_env = "HOOK_SECRET"\n[projects.status]\ntoken_env = "GIT_TOKEN_A"\nprovider = "gitea"\n[[projects.notify]]\nurl = "https://chat.test/x"\nsecret_env = "NOTIFY_SECRET"\n'
  const file = writeConfig(t, toml)
  t.same(await run(['check-config', file], { HOOK_SECRET: '' }), {
    code: 1,
    stdout: '',
    stderr: `${file}: valid, but 3 environment variables it names are not set here; the server does not start without them (what counts is the server's environment, not this one):
  - GIT_TOKEN_A is not set (named by projects[0].code.token_env, projects[0].status.token_env)
  - HOOK_SECRET is set but empty (named by projects[0].webhook.secret_env)
  - NOTIFY_SECRET is not set (named by projects[0].notify[0].secret_env)
`
  })
  const one = await run(['check-config', file], { HOOK_SECRET: 'x', GIT_TOKEN_A: 'y' })
  t.equal(one.stderr.split('\n')[0], `${file}: valid, but 1 environment variable it names is not set here; the server does not start without them (what counts is the server's environment, not this one):`)
  t.same(await run(['check-config', file], { HOOK_SECRET: 'x', GIT_TOKEN_A: 'y', NOTIFY_SECRET: 'z' }), { code: 0, stdout: `${file}: OK (1 project: demo; 1 image)\n`, stderr: '' })
})
