import { spawn, type ChildProcess } from 'node:child_process'
import { readFileSync } from 'node:fs'
import path from 'node:path'
import type { Test } from 'tap'
import { ROOT } from './helper.js'

export interface Exit {
  code: number | null
  signal: NodeJS.Signals | null
}

export interface RunningProcess {
  child: ChildProcess
  stdout: () => string
  stderr: () => string
  exited: Promise<Exit>
  /** Resolves with the first stdout/stderr text matching the pattern (rejects if the process exits first). */
  waitFor: (pattern: RegExp) => Promise<RegExpMatchArray>
}

// The children load the TypeScript sources through the same loader as the test process (tap's), so that
// their coverage merges with the parent's; tsx stands in when a test file runs outside tap.
const TS_LOADER = process.execArgv.filter(arg => /@tapjs[\\/]typescript|--enable-source-maps/.test(arg))
const LOADER_ARGS = TS_LOADER.length > 0 ? TS_LOADER : ['--import', 'tsx']
// What the loader and tap's coverage bookkeeping read from the environment (transpile-only, process info).
const LOADER_ENV = Object.fromEntries(Object.entries(process.env).filter(([key]) => /^(NODE_OPTIONS|TS_NODE_|_TAPJS_PROCESSINFO)/.test(key)))

/**
 * Runs a TypeScript entry of this package (server.ts, bin/build-hook.ts) as a real process, with exactly the
 * environment given (plus PATH and the loader's variables), killed at the end of the test if still running.
 */
export function runTs (t: Test, entry: string, args: readonly string[], env: Record<string, string | undefined>): RunningProcess {
  return watched(t, spawn(process.execPath, [...LOADER_ARGS, path.join(ROOT, entry), ...args], {
    cwd: ROOT,
    env: { PATH: process.env.PATH, ...LOADER_ENV, ...env },
    stdio: ['ignore', 'pipe', 'pipe']
  }))
}

/**
 * Runs `node <argv>` (the built dist/ files) as it runs outside the tests, with exactly the environment
 * given: through `env -i`, which execs node (the same pid), since tap adds its loader, source maps and
 * coverage to the environment of every child a test spawns.
 */
export function runNode (t: Test, argv: readonly string[], env: Record<string, string | undefined>): RunningProcess {
  return watched(t, spawn('env', [...onlyThisEnvironment(env), process.execPath, ...argv], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] }))
}

/** `env`'s arguments that run a command with exactly these variables (undefined ones left out), and none of tap's. */
export function onlyThisEnvironment (env: Record<string, string | undefined>): string[] {
  return ['-i', ...Object.entries(env).flatMap(([name, value]) => value === undefined ? [] : [`${name}=${value}`])]
}

/** The process, its output collected and waited for; killed at the end of the test if still running. */
function watched (t: Test, child: ChildProcess): RunningProcess {
  let out = ''
  let err = ''
  const watchers: Array<{ pattern: RegExp, resolve: (m: RegExpMatchArray) => void }> = []
  const check = (): void => {
    for (const watcher of [...watchers]) {
      const match = (out + err).match(watcher.pattern)
      if (match !== null) {
        watchers.splice(watchers.indexOf(watcher), 1)
        watcher.resolve(match)
      }
    }
  }
  child.stdout!.on('data', chunk => { out += String(chunk); check() })
  child.stderr!.on('data', chunk => { err += String(chunk); check() })
  const exited = new Promise<Exit>(resolve => child.on('exit', (code, signal) => resolve({ code, signal })))
  t.teardown(async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGKILL')
      await exited
    }
  })
  return {
    child,
    stdout: () => out,
    stderr: () => err,
    exited,
    waitFor: (pattern) => new Promise((resolve, reject) => {
      watchers.push({ pattern, resolve })
      check()
      void exited.then(exit => reject(new Error(`process exited (${JSON.stringify(exit)}) before printing ${String(pattern)}:\n${out}\n${err}`)))
    })
  }
}

/** Whether a process still runs: a zombie (killed, not yet reaped by whoever inherited it) does not. */
export function alive (pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z'
  } catch {
    return false
  }
}
