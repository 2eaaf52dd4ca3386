import { createServer } from 'node:http'
import { writeFileSync } from 'node:fs'
import path from 'node:path'
import t, { type Test } from 'tap'
import { main } from '../../lib/cli/main.js'
import { packageVersion } from '../../lib/package-version.js'
import { runCli } from '../cli.js'
import { configToml, MINIMAL_CONFIG, SAMPLE_CONFIG, tempDir, writeConfig } from '../helper.js'
import { runTs } from '../process.js'

/** A server that answers every request `{"projects":[]}` and keeps "<host> <authorization>" of each: a usage error must send none. */
async function recorder (t: Test): Promise<{ url: string, host: string, seen: string[] }> {
  const seen: string[] = []
  const server = createServer((request, response) => { seen.push(`${request.headers.host} ${request.headers.authorization}`); response.end('{"projects":[]}') })
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
  t.teardown(() => new Promise<void>(resolve => server.close(() => resolve())))
  const url = `http://127.0.0.1:${(server.address() as { port: number }).port}`
  return { url, host: new URL(url).host, seen }
}

t.test('check-config accepts a valid file and summarises it', async t => {
  const file = writeConfig(t, MINIMAL_CONFIG)
  t.same(await runCli(['check-config', file]), { code: 0, stdout: `${file}: OK (1 project: demo; 1 image)\n`, stderr: '' })
  const two = writeConfig(t, configToml([{ slug: 'web', images: ['web', 'api'] }, { slug: 'site' }]), 'two.toml')
  t.same(await runCli(['check-config', two]), { code: 0, stdout: `${two}: OK (2 projects: web, site; 3 images)\n`, stderr: '' })
})

t.test('check-config reads $CONFIG_PATH when no file is given', async t => {
  const result = await runCli(['check-config'], { CONFIG_PATH: SAMPLE_CONFIG })
  t.equal(result.code, 0)
  t.match(result.stdout, `${SAMPLE_CONFIG}: OK (1 project: hello; 1 image)`)
})

t.test('check-config falls back to ./config.toml', async t => {
  const result = await runCli(['check-config'], {})
  t.equal(result.code, 0, 'the repository root holds the sample config')
  t.match(result.stdout, `${SAMPLE_CONFIG}: OK`)
})

t.test('check-config lists every problem and exits 1', async t => {
  const file = writeConfig(t, MINIMAL_CONFIG.replace('branch = "main"', 'brnach = "main"'))
  t.same(await runCli(['check-config', file]), {
    code: 1,
    stdout: '',
    stderr: `Invalid configuration in ${file} (2 problems):\n  - projects[0].code.branch: is required\n  - projects[0].code.brnach: unknown key (did you mean 'branch'?)\n`
  })
})

t.test('check-config reports a missing file and a syntax error with exit 1', async t => {
  const missing = await runCli(['check-config', '/nonexistent/config.toml'])
  t.same(missing, { code: 1, stdout: '', stderr: 'Configuration file not found: /nonexistent/config.toml (set CONFIG_PATH to its location)\n' })
  const file = writeConfig(t, '[app\n')
  const syntax = await runCli(['check-config', file])
  t.equal(syntax.code, 1)
  t.match(syntax.stderr, `TOML syntax error in ${file}:1:5: unexpected end of the line — expected whitespace, . or ]`)
})

t.test('check-config with two files is a usage error', async t => {
  t.same(await runCli(['check-config', 'a.toml', 'b.toml']), {
    code: 2,
    stdout: '',
    stderr: "build-hook: too many arguments for 'check-config'. Expected 1 argument but got 2.\nSee 'build-hook check-config --help'.\n"
  })
})

t.test('no command prints the help on stdout and exits 0, as kubectl and gh do', async t => {
  const result = await runCli([])
  t.equal(result.code, 0)
  t.equal(result.stderr, '')
  t.match(result.stdout, /^Usage: build-hook \[options\] \[command\]\n/)
  t.equal(result.stdout, (await runCli(['--help'])).stdout)
})

t.test('an unknown command or option is a usage error that says where the help is', async t => {
  t.same(await runCli(['frobnicate']), { code: 2, stdout: '', stderr: "build-hook: unknown command 'frobnicate'\nSee 'build-hook --help'.\n" })
  t.same(await runCli(['trigr']), { code: 2, stdout: '', stderr: "build-hook: unknown command 'trigr'\n(Did you mean trigger?)\nSee 'build-hook --help'.\n" })
  t.same(await runCli(['builds', '--colour']), { code: 2, stdout: '', stderr: "build-hook: unknown option '--colour'\nSee 'build-hook builds --help'.\n" })
  t.same(await runCli(['logs']), { code: 2, stdout: '', stderr: "build-hook: missing required argument 'id'\nSee 'build-hook logs --help'.\n" })
})

t.test('--help lists the commands, the environment and the exit codes', async t => {
  const help = await runCli(['--help'])
  t.equal(help.code, 0)
  t.equal(help.stderr, '')
  for (const command of ['projects', 'builds', 'logs', 'trigger', 'cancel', 'rollback', 'check-config', 'completion', 'help']) {
    t.match(help.stdout, new RegExp(`\\n  ${command} `), command)
  }
  t.match(help.stdout, '\nEnvironment:\n  HOOK_URL ')
  t.match(help.stdout, '\nExit codes:\n  0    done; a followed build succeeded\n')
  t.match(help.stdout, '\n  130  Ctrl-C while following a build: the build goes on\n')
  t.same(await runCli(['-h']), help)
  t.same(await runCli(['help']), help)
})

t.test("a command's help shows its arguments, options, the global options and examples", async t => {
  const help = await runCli(['logs', '--help'])
  t.same(help, {
    code: 0,
    stderr: '',
    stdout: `Usage: build-hook logs [options] <id>

print a build's log

Arguments:
  id                   the build id

Options:
  -f, --follow         stream the log until the build ends; exit 0 only if it
                       succeeded (Ctrl-C stops following, not the build)
  -h, --help           show help

Global Options:
  -V, --version        print the version
  --url <url>          the service's URL (default: $HOOK_URL)
  --token-file <file>  read the bearer token from this file (default:
                       $HOOK_TOKEN)
  --token <token>      the bearer token; other users see it in ps: prefer
                       HOOK_TOKEN or --token-file

Examples:
  build-hook logs 42
  build-hook logs 42 --follow
`
  })
  t.same(await runCli(['help', 'logs']), help)
})

t.test('--version prints the version of the package', async t => {
  t.same(await runCli(['--version']), { code: 0, stdout: `${packageVersion(import.meta.url)}\n`, stderr: '' })
  t.same(await runCli(['-V']), { code: 0, stdout: '0.1.0\n', stderr: '' })
})

t.test('an invalid value is a usage error, reported before any request', async t => {
  const service = await recorder(t)
  const env = { HOOK_URL: service.url, HOOK_TOKEN: 'x' }
  const cases: Array<[string[], string]> = [
    [['logs', '999999999999999999999'], "invalid build id '999999999999999999999': a positive integer of at most 9007199254740991"],
    [['logs', '9007199254740993'], "invalid build id '9007199254740993': a positive integer of at most 9007199254740991"],
    [['logs', '0'], "invalid build id '0': a positive integer of at most 9007199254740991"],
    [['logs', '042'], "invalid build id '042': a positive integer of at most 9007199254740991"],
    [['cancel', '1e3'], "invalid build id '1e3': a positive integer of at most 9007199254740991"],
    [['rollback', 'demo', '--to', '-1'], "invalid build id '-1': a positive integer of at most 9007199254740991"],
    [['builds', '--limit', '201'], "invalid limit '201': an integer from 1 to 200"],
    [['builds', '--limit', '0'], "invalid limit '0': an integer from 1 to 200"],
    [['builds', '--status', 'done'], "invalid status 'done': one of queued, running, succeeded, failed, cancelled, superseded"],
    [['builds', '--project', 'My_App'], "invalid project 'My_App': a project's slug (lowercase letters, digits and '-', e.g. my-app)"],
    [['builds', '-o', 'yaml'], "invalid output format 'yaml': one of table, json"],
    [['trigger', 'demo', '-o', 'table'], "invalid output format 'table': json"],
    [['trigger', 'demo', '--commit', 'abc123'], "invalid commit 'abc123': a full commit SHA (40 hex digits)"],
    [['trigger', '-demo'], "unknown option '-demo'"],
    [['rollback', 'Demo'], "invalid project 'Demo': a project's slug (lowercase letters, digits and '-', e.g. my-app)"],
    [['completion', 'fish'], "invalid shell 'fish': one of bash, zsh"]
  ]
  for (const [argv, message] of cases) {
    t.same(await runCli(argv, env), { code: 2, stdout: '', stderr: `build-hook: ${message}\nSee 'build-hook ${argv[0]!} --help'.\n` }, argv.join(' '))
  }
  t.same(await runCli(['trigger', 'demo', '--follow', '-o', 'json'], env), {
    code: 2,
    stdout: '',
    stderr: "build-hook: option '-o, --output <format>' cannot be used with option '-f, --follow'\nSee 'build-hook trigger --help'.\n"
  })
  t.same(service.seen, [])
})

t.test('without a URL or a token the client says how to set them, and exits 3', async t => {
  t.same(await runCli(['builds'], {}), { code: 3, stdout: '', stderr: 'build-hook: no service URL: set HOOK_URL (e.g. https://hook.example.com), or pass --url URL\n' })
  t.same(await runCli(['builds'], { HOOK_URL: 'http://127.0.0.1:1', HOOK_TOKEN: '' }), { code: 3, stdout: '', stderr: 'build-hook: no bearer token: set HOOK_TOKEN, or pass --token-file FILE\n' })
})

t.test('--url and --token override HOOK_URL and HOOK_TOKEN, which override BUILD_HOOK_URL and BUILD_HOOK_TOKEN', async t => {
  const other = await recorder(t)
  const { url: echoUrl, host, seen } = await recorder(t)
  t.equal((await runCli(['projects'], { BUILD_HOOK_URL: echoUrl, BUILD_HOOK_TOKEN: 'old' })).code, 0)
  t.equal((await runCli(['projects'], { HOOK_URL: echoUrl, HOOK_TOKEN: 'new', BUILD_HOOK_URL: other.url, BUILD_HOOK_TOKEN: 'old' })).code, 0)
  t.equal((await runCli(['projects', '--url', echoUrl, '--token', 'flag'], { HOOK_URL: other.url, HOOK_TOKEN: 'new' })).code, 0)
  t.equal((await runCli(['--url', echoUrl, 'projects', '--token', 'flag'], { HOOK_URL: other.url, HOOK_TOKEN: 'new' })).code, 0, 'global options before the command too')
  t.same(seen, [`${host} Bearer old`, `${host} Bearer new`, `${host} Bearer flag`, `${host} Bearer flag`])
  t.same(other.seen, [])
})

t.test('--token-file reads the token without its trailing newline; a missing or empty file is a usage error', async t => {
  const dir = tempDir(t)
  const { url, host, seen } = await recorder(t)
  const env = { HOOK_URL: url, HOOK_TOKEN: 'from-env' }
  writeFileSync(path.join(dir, 'token'), 'from-file\n')
  writeFileSync(path.join(dir, 'empty'), '\n')
  t.equal((await runCli(['projects', '--token-file', path.join(dir, 'token')], env)).code, 0)
  t.same(seen, [`${host} Bearer from-file`])
  t.same(await runCli(['projects', '--token-file', path.join(dir, 'none')], env), { code: 2, stdout: '', stderr: `build-hook: cannot read the token file ${path.join(dir, 'none')}: ENOENT\n` })
  t.same(await runCli(['projects', '--token-file', path.join(dir, 'empty')], env), { code: 2, stdout: '', stderr: `build-hook: the token file ${path.join(dir, 'empty')} is empty\n` })
  t.same(await runCli(['projects', '--token', ''], env), { code: 2, stdout: '', stderr: 'build-hook: --token is empty\n' })
  t.same(await runCli(['projects', '--token', 'a', '--token-file', 'f'], env), {
    code: 2,
    stdout: '',
    stderr: "build-hook: option '--token <token>' cannot be used with option '--token-file <file>'\nSee 'build-hook --help'.\n"
  })
})

t.test('a service URL that is not http(s), or holds a password, is a usage error that does not echo the password', async t => {
  t.same(await runCli(['projects'], { HOOK_URL: 'not a url', HOOK_TOKEN: 'x' }), { code: 2, stdout: '', stderr: "build-hook: invalid service URL 'not a url': an http:// or https:// URL, e.g. https://hook.example.com\n" })
  t.same(await runCli(['projects', '--url', 'ftp://hook.example.com'], { HOOK_TOKEN: 'x' }), { code: 2, stdout: '', stderr: "build-hook: invalid service URL 'ftp://hook.example.com': an http:// or https:// URL, e.g. https://hook.example.com\n" })
  t.same(await runCli(['projects'], { HOOK_URL: 'https://me:s3cret@hook.example.com', HOOK_TOKEN: 'x' }), {
    code: 2,
    stdout: '',
    stderr: 'build-hook: invalid service URL: it holds a user name or password; give the bearer token with HOOK_TOKEN or --token-file instead\n'
  })
  for (const url of ['ftp://me:s3cret@hook.example.com', 'https://me:s3cret@hook.example.com:99999/', 'me:s3cret@hook example', 'http://me:s3cret@']) {
    const result = await runCli(['projects', '--url', url], { HOOK_TOKEN: 'x' })
    t.equal(result.code, 2, url)
    t.notMatch(result.stderr, 's3cret', `${url}: the password is not echoed`)
  }
  t.same(await runCli(['projects', '--url', 'https://me:s3cret@hook.example.com:99999/'], { HOOK_TOKEN: 'x' }), { code: 2, stdout: '', stderr: "build-hook: invalid service URL 'https://…@hook.example.com:99999/': an http:// or https:// URL, e.g. https://hook.example.com\n" })
})

t.test('an error that is no usage or service error (a bug, a closed stdout) surfaces as it is', async t => {
  const broken = new Error('write EPIPE')
  const io = { stdout: () => { throw broken }, stderr: () => {}, env: {}, now: Date.now, onInterrupt: () => () => {} }
  await t.rejects(main(['--version'], io), broken)
})

t.test('the installed command exits with the same codes as a real process', async t => {
  const good = runTs(t, 'bin/build-hook.ts', ['check-config', SAMPLE_CONFIG], {})
  t.same(await good.exited, { code: 0, signal: null })
  t.match(good.stdout(), /: OK \(/)
  const file = writeConfig(t, MINIMAL_CONFIG.replace('location = "Dockerfile"', 'location = "/Dockerfile"'))
  const bad = runTs(t, 'bin/build-hook.ts', ['check-config', file], {})
  t.same(await bad.exited, { code: 1, signal: null })
  t.equal(bad.stderr(), `Invalid configuration in ${file} (1 problem):\n  - projects[0].image[0].location: must be a relative path without '..'\n`)
  const usage = runTs(t, 'bin/build-hook.ts', ['logs', '999999999999999999999'], {})
  t.same(await usage.exited, { code: 2, signal: null })
  t.equal(usage.stderr(), "build-hook: invalid build id '999999999999999999999': a positive integer of at most 9007199254740991\nSee 'build-hook logs --help'.\n")
  const unset = runTs(t, 'bin/build-hook.ts', ['builds'], {})
  t.same(await unset.exited, { code: 3, signal: null })
})

t.test('check-config reports each variable the config names that its environment lacks, and exits 1', async t => {
  const toml = MINIMAL_CONFIG.replace('branch = "main"', 'branch = "main"\ntoken_env = "GIT_TOKEN_A"') +
    '[projects.webhook]\nsecret_env = "HOOK_SECRET"\n[projects.status]\ntoken_env = "GIT_TOKEN_A"\nprovider = "gitea"\n[[projects.notify]]\nurl = "https://chat.test/x"\nsecret_env = "NOTIFY_SECRET"\n'
  const file = writeConfig(t, toml)
  t.same(await runCli(['check-config', file], { HOOK_SECRET: '' }), {
    code: 1,
    stdout: '',
    stderr: `${file}: valid, but 3 environment variables it names are not set here; the server does not start without them (what counts is the server's environment, not this one; --skip-env checks the file alone):
  - GIT_TOKEN_A is not set (named by projects[0].code.token_env, projects[0].status.token_env)
  - HOOK_SECRET is set but empty (named by projects[0].webhook.secret_env)
  - NOTIFY_SECRET is not set (named by projects[0].notify[0].secret_env)
`
  })
  const one = await runCli(['check-config', file], { HOOK_SECRET: 'x', GIT_TOKEN_A: 'y' })
  t.equal(one.stderr.split('\n')[0], `${file}: valid, but 1 environment variable it names is not set here; the server does not start without them (what counts is the server's environment, not this one; --skip-env checks the file alone):`)
  t.same(await runCli(['check-config', file], { HOOK_SECRET: 'x', GIT_TOKEN_A: 'y', NOTIFY_SECRET: 'z' }), { code: 0, stdout: `${file}: OK (1 project: demo; 1 image)\n`, stderr: '' })
  t.same(await runCli(['check-config', file, '--skip-env'], {}), { code: 0, stdout: `${file}: OK (1 project: demo; 1 image)\n`, stderr: '' }, 'the file alone')
})
