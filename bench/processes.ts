import { spawn, type ChildProcess } from 'node:child_process'
import { readFileSync } from 'node:fs'
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

/** Runs a Node script as its own process and waits for the URL it prints. */
export function startNode (script: string, env: Record<string, string>, pattern: RegExp, nodeArgs: string[] = []): Promise<Server> {
  const child = spawn(process.execPath, [...nodeArgs, path.join(ROOT, script)], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] })
  let output = ''
  return new Promise((resolve, reject) => {
    const onData = (chunk: Buffer): void => {
      output += String(chunk)
      const match = pattern.exec(output)
      if (match === null) return
      child.stdout!.off('data', onData)
      child.stdout!.resume() // keep draining the log
      resolve({
        url: match[1]!,
        child,
        rssMb: () => Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${child.pid!}/status`, 'utf8'))![1]) / 1024,
        stop: () => new Promise<void>(done => {
          if (child.exitCode !== null) return done()
          child.once('exit', () => done())
          child.kill('SIGTERM')
        })
      })
    }
    child.stdout!.on('data', onData)
    child.stderr!.on('data', chunk => { output += String(chunk) })
    child.once('exit', code => reject(new Error(`${script} exited (${String(code)}) before listening:\n${output}`)))
  })
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
