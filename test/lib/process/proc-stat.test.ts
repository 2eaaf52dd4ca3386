import { spawn } from 'node:child_process'
import { copyFileSync, mkdirSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import t from 'tap'
import { isRunning, parseProcStat, readProcStat } from '../../../lib/process/proc-stat.js'
import { tempDir } from '../../helper.js'

// proc(5): pid (comm) state ppid pgrp session tty_nr tpgid flags minflt cminflt majflt cmajflt utime stime cutime cstime priority nice num_threads itrealvalue starttime vsize ...
const line = (comm: string, state = 'S') => `4242 (${comm}) ${state} 1 4240 4240 0 -1 4194560 100 0 0 0 5 2 0 0 20 0 1 0 987654321 12345678 300 18446744073709551615\n`

t.test('the stat line is parsed by the last parenthesis: a command name with spaces and parentheses is no problem', async t => {
  t.same(parseProcStat(line('docker')), { pid: 4242, comm: 'docker', state: 'S', ppid: 1, pgrp: 4240, startTime: 987654321 })
  t.same(parseProcStat(line('a) 7 (b c) Z 9')), { pid: 4242, comm: 'a) 7 (b c) Z 9', state: 'S', ppid: 1, pgrp: 4240, startTime: 987654321 })
  t.equal(parseProcStat('4242 docker S 1 4240'), null, 'no command name')
  t.equal(parseProcStat('4242 (docker) S 1 4240 4240 0'), null, 'cut short before starttime')
  t.equal(parseProcStat(''), null)
})

t.test("a real process's stat: its pid, group and start time; none for a pid that does not exist", async t => {
  const own = readProcStat(process.pid)!
  t.equal(own.pid, process.pid)
  t.equal(own.ppid, process.ppid)
  t.ok(Number.isInteger(own.startTime) && own.startTime > 0)
  t.same(readProcStat(process.pid), own, 'the same process reads the same start time')
  t.equal(readProcStat(2 ** 22 + 1), null, 'above any pid_max')
  t.ok(isRunning(process.pid))
  t.notOk(isRunning(2 ** 22 + 1))
})

t.test('a process whose command name holds spaces and parentheses, in a group of its own', async t => {
  const dir = tempDir(t)
  const program = path.join(dir, 'x) (y z')
  copyFileSync('/bin/sleep', program)
  const child = spawn(program, ['30'], { detached: true, stdio: 'ignore' })
  const exited = new Promise(resolve => child.once('exit', resolve))
  t.teardown(async () => { child.kill('SIGKILL'); await exited })
  const stat = readProcStat(child.pid!)!
  t.match(stat, { pid: child.pid, comm: 'x) (y z', ppid: process.pid, pgrp: child.pid })
  t.ok(stat.startTime >= readProcStat(process.pid)!.startTime, 'started after this process')
})

t.test('a zombie has exited: it is not running', async t => {
  const root = tempDir(t)
  mkdirSync(path.join(root, '4242'))
  writeFileSync(path.join(root, '4242', 'stat'), line('docker', 'Z'))
  t.equal(readProcStat(4242, root)!.state, 'Z')
  t.notOk(isRunning(4242, root))
  writeFileSync(path.join(root, '4242', 'stat'), line('docker', 'R'))
  t.ok(isRunning(4242, root))
})
