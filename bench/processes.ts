import { spawn, type ChildProcess } from 'node:child_process'
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'

export const ROOT = path.dirname(path.dirname(fileURLToPath(import.meta.url)))

export interface Server {
  url: string
  child: ChildProcess
  /** Resident set size of the server process, in MB. */
  rssMb: () => number
  stop: () => Promise<void>
}

/**
 * Runs a Node script as its own process, its output going to `logFile` (as a container runtime writes a
 * pod's log: the server never waits on a reader), and waits for the URL it prints.
 */
export async function startNode (script: string, env: Record<string, string>, pattern: RegExp, logFile: string, nodeArgs: string[] = []): Promise<Server> {
  const fd = openSync(logFile, 'a')
  const child = spawn(process.execPath, [...nodeArgs, path.join(ROOT, script)], { cwd: ROOT, env, stdio: ['ignore', fd, fd] })
  closeSync(fd)
  let exited = false
  child.once('exit', () => { exited = true })
  let match: RegExpExecArray | null = null
  await waitFor(async () => {
    if (exited) throw new Error(`${script} exited before listening:\n${readFileSync(logFile, 'utf8')}`)
    match = pattern.exec(readFileSync(logFile, 'utf8'))
    return match !== null
  }, `${script} to listen`)
  return {
    url: match![1]!,
    child,
    rssMb: () => Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${child.pid!}/status`, 'utf8'))![1]) / 1024,
    stop: () => new Promise<void>(resolve => {
      if (child.exitCode !== null || child.signalCode !== null) return resolve()
      child.once('exit', () => resolve())
      child.kill('SIGTERM')
    })
  }
}

/**
 * The Node flags production starts the server with: those of the Dockerfile's `CMD ["node", ..., "dist/server.js"]`
 * (npm start and the README's systemd unit give the same), so that the hook is measured as it runs.
 */
export function productionNodeArgs (): string[] {
  const cmd = /^CMD (\[.*\])$/m.exec(readFileSync(path.join(ROOT, 'Dockerfile'), 'utf8'))
  const argv = cmd === null ? [] : JSON.parse(cmd[1]!) as string[]
  if (argv[0] !== 'node' || argv.at(-1) !== 'dist/server.js') throw new Error(`the Dockerfile's CMD is not node [flags] dist/server.js: ${cmd?.[1]}`)
  return argv.slice(1, -1)
}

/**
 * A new temporary folder under `parent`, removed however this process ends: normally, on an error, or on
 * Ctrl-C or SIGTERM (which end it with status 130); left in place when `keep`.
 */
export function workDir (prefix: string, { parent = os.tmpdir(), keep = false }: { parent?: string, keep?: boolean } = {}): string {
  const dir = mkdtempSync(path.join(parent, prefix))
  if (!keep) process.on('exit', () => rmSync(dir, { recursive: true, force: true }))
  for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => process.exit(130))
  return dir
}

export async function waitFor (check: () => Promise<boolean>, what: string, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise(resolve => setTimeout(resolve, 20))
  }
}

export function median (values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b)
  const middle = Math.floor(sorted.length / 2)
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2
}
