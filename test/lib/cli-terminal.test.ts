import { execFile, spawnSync } from 'node:child_process'
import { writeFileSync } from 'node:fs'
import path from 'node:path'
import { promisify } from 'node:util'
import t, { type Test } from 'tap'
import { cliService } from '../cli.js'
import { buildIn, eventually, finished, ROOT, TOKENS, tempDir } from '../helper.js'

// The CLI as a person sees it: the real process in a tmux terminal of 200 x 50, keys sent, the screen read.
// It runs under tsx, not tap's loader: that loader's exit hooks end the process on SIGINT before the CLI's own handler can.

const run = promisify(execFile)
const hasTmux = spawnSync('tmux', ['-V']).status === 0
// CI installs tmux (.ci/run): there a missing tmux fails these tests instead of skipping them.
const skip = !hasTmux && process.env.CI === undefined && 'tmux is not installed (apt-get install tmux); CI runs these tests'
const COMMIT = 'c'.repeat(40)

function shellQuote (text: string): string {
  return `'${text.replaceAll("'", "'\\''")}'`
}

interface Terminal {
  /** The whole screen and its scrollback, wrapped lines joined. */
  screen: () => Promise<string>
  /** The screen once it matches `pattern`. */
  shows: (pattern: RegExp) => Promise<string>
  keys: (...keys: string[]) => Promise<void>
  /** The exit code of the CLI once it has ended (the pane stays, with its output). */
  exited: () => Promise<number>
}

/** `build-hook <args>` running in a new tmux server of the test's own, with exactly `env`; the server is killed when the test ends. */
async function terminal (t: Test, args: string[], env: Record<string, string>): Promise<Terminal> {
  const dir = tempDir(t)
  // A server of its own, its socket in the test's directory (-S rather than -L: nothing left in /tmp/tmux-<uid>).
  const socket = path.join(dir, 'tmux.sock')
  const script = path.join(dir, 'run.sh')
  const variables = Object.entries({ PATH: process.env.PATH!, HOME: dir, TERM: 'xterm', ...env }).map(([name, value]) => shellQuote(`${name}=${value}`))
  // bash waits for the CLI and says how it exited (tmux's own pane_dead_status is not always there when the pane ends);
  // on Ctrl-C bash goes on to say it only when the CLI handled the signal itself rather than died of it.
  writeFileSync(script, `cd ${shellQuote(ROOT)} && env -i ${variables.join(' ')} ${shellQuote(process.execPath)} ${['--import', 'tsx', 'bin/build-hook.ts', ...args].map(shellQuote).join(' ')}\necho "[exit $?]"\n`)
  const config = path.join(dir, 'tmux.conf')
  writeFileSync(config, 'set -g remain-on-exit on\n') // the pane keeps its output once the script ends
  const tmux = async (...argv: string[]): Promise<string> => (await run('tmux', ['-S', socket, ...argv])).stdout
  t.teardown(() => run('tmux', ['-S', socket, 'kill-server']).catch(() => {}))
  await tmux('-f', config, 'new-session', '-d', '-x', '200', '-y', '50', `bash ${shellQuote(script)}`)
  const capture = (): Promise<string> => tmux('capture-pane', '-p', '-J', '-S', '-')
  // What the CLI printed: without the exit line of the script, nor tmux's own about the ended pane.
  const screen = async (): Promise<string> => (await capture()).replace(/\n*(\[exit \d+\]\n)?\n*(Pane is dead .*\n)?\n*$/, '\n')
  return {
    screen,
    shows: pattern => eventually(async () => {
      const text = await screen()
      return pattern.test(text) ? text : undefined
    }, `the terminal to show ${String(pattern)}`),
    keys: async (...keys) => { await tmux('send-keys', ...keys) },
    exited: () => eventually(async () => {
      const exit = /(?:^|\n)\[exit (\d+)\]\n/.exec(await capture())
      return exit === null ? undefined : Number(exit[1])
    }, 'the CLI to exit')
  }
}

t.test('trigger --follow shows the log as it streams, then how the build ended', { skip }, async t => {
  const { client } = await cliService(t)
  const term = await terminal(t, ['trigger', 'demo', '--commit', COMMIT, '--follow'], client)
  t.equal(await term.exited(), 0)
  const lines = (await term.screen()).trimEnd().split('\n')
  t.equal(lines[0], `build 1 of demo at ${COMMIT}: queued`)
  t.equal(lines[1], `[build-hook] build 1 of demo at ${COMMIT} (attempt 1)`)
  t.equal(lines.at(-2), '[build-hook] build 1 succeeded')
  t.equal(lines.at(-1), 'build 1 succeeded')
})

t.test('Ctrl-C during logs --follow stops following with exit 130 and a word on how to go on; the build goes on', { skip }, async t => {
  const { app, docker, env, url } = await cliService(t)
  const gate = path.join(env.HOME!, 'gate')
  docker.control({ images: { 'registry.test/demo/web': { waitForFile: gate } } })
  const answer = await app.inject({ method: 'POST', url: '/demo', headers: { authorization: `Bearer ${TOKENS[0]}` }, payload: { commit: COMMIT } })
  t.equal(answer.statusCode, 202)
  await buildIn(app, 1, ['running'])
  await eventually(() => docker.calls().find(call => call.event === 'waiting'), 'the build to be running its step')
  const term = await terminal(t, ['logs', '1', '--follow'], { HOOK_URL: url, HOOK_TOKEN: TOKENS[0] })
  await term.shows(/\[build-hook\] build 1 of demo at c{40} \(attempt 1\)\n/)
  await term.keys('C-c')
  t.equal(await term.exited(), 130)
  t.match(await term.screen(), /\n(\^C)?build 1 goes on; follow it again with: build-hook logs 1 --follow \(or stop it with: build-hook cancel 1\)\n$/, 'the terminal echoes ^C, then the CLI says how to go on')
  t.equal(app.store.get(1)!.status, 'running', 'the build goes on')
  writeFileSync(gate, '')
  t.equal((await finished(app, 1)).status, 'succeeded')
})

t.test('--help fills the width of the terminal', { skip }, async t => {
  const term = await terminal(t, ['--help'], {})
  t.equal(await term.exited(), 0)
  const screen = await term.screen()
  t.match(screen, /^Usage: build-hook \[options\] \[command\]\n\nTrigger, follow and inspect the builds of a build-hook service\.\n/)
  t.match(screen, '\n  check-config [options] [file]  validate a config file, and that this environment has the variables it names: exit 0 when valid, 1 listing every problem\n', 'one line per command at 200 columns')
  t.match(screen, '\n  --token <token>                the bearer token; other users see it in ps: prefer HOOK_TOKEN or --token-file\n')
  t.match(screen, '\nExit codes:\n  0    done; a followed build succeeded\n')
})
