import { execFileSync, spawnSync } from 'node:child_process'
import { writeFileSync } from 'node:fs'
import path from 'node:path'
import t from 'tap'
import { runCli } from '../cli.js'
import { tempDir } from '../helper.js'

const hasZsh = spawnSync('zsh', ['--version']).status === 0

/** What bash completes for the words of a command line (the last word being completed), through the script's function. */
function bashCompletes (script: string, words: string[], cwd?: string): string[] {
  const driver = `source "$1"; shift; COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); _build_hook; printf '%s\\n' "\${COMPREPLY[@]}"`
  const out = execFileSync('bash', ['-c', driver, 'bash', script, ...words], { encoding: 'utf8', cwd })
  return out.split('\n').filter(line => line !== '')
}

t.test('completion bash prints a script that bash reads without error', async t => {
  const result = await runCli(['completion', 'bash'])
  t.equal(result.code, 0)
  t.equal(result.stderr, '')
  t.match(result.stdout, /^# bash completion for build-hook\n/)
  t.match(result.stdout, /\ncomplete -F _build_hook build-hook\n$/)
  const file = path.join(tempDir(t), 'build-hook.bash')
  writeFileSync(file, result.stdout)
  t.equal(spawnSync('bash', ['-n', file]).status, 0)
})

t.test('the bash completion completes commands, options, and the values of -o, --status and the shell', async t => {
  const dir = tempDir(t)
  const script = path.join(dir, 'build-hook.bash')
  writeFileSync(script, (await runCli(['completion', 'bash'])).stdout)
  t.same(bashCompletes(script, ['build-hook', 'tr']), ['trigger'])
  t.same(bashCompletes(script, ['build-hook', 'c']), ['cancel', 'check-config', 'completion'])
  t.same(bashCompletes(script, ['build-hook', '--url', 'http://h', 'lo']), ['logs'], 'after a global option and its value')
  t.same(bashCompletes(script, ['build-hook', '--t']), ['--token-file', '--token'])
  t.same(bashCompletes(script, ['build-hook', 'builds', '--']), ['--project', '--status', '--limit', '--output', '--help'])
  t.same(bashCompletes(script, ['build-hook', 'builds', '--status', 's']), ['succeeded', 'superseded'])
  t.same(bashCompletes(script, ['build-hook', 'builds', '-o', '']), ['table', 'json'])
  t.same(bashCompletes(script, ['build-hook', 'trigger', 'demo', '--output', '']), ['json'])
  t.same(bashCompletes(script, ['build-hook', 'trigger', 'demo', '--commit', '']), [], "a commit is the user's to type")
  t.same(bashCompletes(script, ['build-hook', 'logs', '1', '--f']), ['--follow'])
  t.same(bashCompletes(script, ['build-hook', 'completion', '']), ['bash', 'zsh'])
  t.same(bashCompletes(script, ['build-hook', 'help', 'ro']), ['rollback'])
  t.same(bashCompletes(script, ['build-hook', 'check-config', 'build-hook.b'], dir), ['build-hook.bash'], 'files')
  t.same(bashCompletes(script, ['build-hook', 'projects', '--token-file', 'build-'], dir), ['build-hook.bash'], 'files, for a global option after the command too')
})

t.test('completion zsh prints a script that zsh reads without error', { skip: !hasZsh && 'zsh is not installed' }, async t => {
  const result = await runCli(['completion', 'zsh'])
  t.equal(result.code, 0)
  t.match(result.stdout, /^#compdef build-hook\n/)
  t.match(result.stdout, "'--status=[only builds in this status]:status:(queued running succeeded failed cancelled superseded)'")
  t.match(result.stdout, "'(-o --output)'{-o+,--output=}'[output format]:output:(table json)'")
  const file = path.join(tempDir(t), '_build-hook')
  writeFileSync(file, result.stdout)
  const check = spawnSync('zsh', ['-n', file], { encoding: 'utf8' })
  t.same({ status: check.status, stderr: check.stderr }, { status: 0, stderr: '' })
})
