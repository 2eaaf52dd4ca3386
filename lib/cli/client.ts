import { parseArgs } from 'node:util'
import type { CliIo } from './io.js'

/** What the server says of a build (the fields the CLI prints). */
interface Build {
  id: number
  project: string
  status: string
  trigger: { commit: string, source: string }
  /** The commit built (the branch head when it moved after the push); null until the build starts. */
  commit?: string | null
  createdAt: string
  error: string | null
}

class CliError extends Error {
  constructor (message: string, readonly exitCode = 1) {
    super(message)
  }
}

interface Api {
  request: (path: string, init?: RequestInit) => Promise<Response>
  json: <T>(path: string, init?: RequestInit) => Promise<T>
}

/** BUILD_HOOK_URL and BUILD_HOOK_TOKEN: where the service is and how to authenticate to it. */
function api (io: CliIo): Api {
  const base = io.env.BUILD_HOOK_URL
  const token = io.env.BUILD_HOOK_TOKEN
  if (base === undefined || base === '' || token === undefined || token === '') {
    throw new CliError('set BUILD_HOOK_URL (e.g. https://hook.example.com) and BUILD_HOOK_TOKEN (a bearer token)', 2)
  }
  const request = async (path: string, init: RequestInit = {}): Promise<Response> => {
    let res: Response
    try {
      res = await fetch(new URL(path, base.endsWith('/') ? base : `${base}/`), { ...init, headers: { authorization: `Bearer ${token}`, ...init.headers } })
    } catch (err) {
      throw new CliError(`cannot reach ${base}: ${((err as Error).cause as Error | undefined)?.message ?? (err as Error).message}`)
    }
    if (!res.ok) {
      const body = await res.text()
      let message = body
      try { message = (JSON.parse(body) as { message: string }).message } catch { /* not JSON */ }
      throw new CliError(`${res.status} ${res.statusText}: ${message}`)
    }
    return res
  }
  return { request, json: async <T>(path: string, init?: RequestInit) => (await (await request(path, init)).json()) as T }
}

/**
 * Streams a build's log to stdout until the build ends; returns its exit code (0 only when it succeeded).
 * The service follows a build through every attempt, and ends the stream once the build has ended; only
 * its own shutdown ends a stream earlier (with a last line saying why), and then the build has no outcome
 * yet: that is said, and the exit code is 1.
 */
async function follow (client: Api, io: CliIo, id: number): Promise<number> {
  const decoder = new TextDecoder()
  const res = await client.request(`builds/${id}/logs?follow=true`)
  for await (const chunk of res.body! as AsyncIterable<Uint8Array>) io.stdout(decoder.decode(chunk, { stream: true }))
  const build = await client.json<Build>(`builds/${id}`)
  if (build.status === 'queued' || build.status === 'running') {
    io.stderr(`build ${build.id} is still ${build.status}: the service ended the log stream (follow it again with: build-hook logs ${build.id} --follow)\n`)
    return 1
  }
  io.stderr(`build ${build.id} ${build.status}${build.error === null ? '' : `: ${build.error}`}\n`)
  return build.status === 'succeeded' ? 0 : 1
}

function buildId (value: string | undefined): number {
  if (value === undefined || !/^[1-9]\d*$/.test(value)) throw new CliError('a build id is a positive integer', 2)
  return Number(value)
}

export async function trigger (args: readonly string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseArgs({ args: [...args], allowPositionals: true, options: { commit: { type: 'string' }, follow: { type: 'boolean', default: false } } })
  if (positionals.length !== 1) throw new CliError('usage: build-hook trigger <slug> [--commit SHA] [--follow]', 2)
  const client = api(io)
  const answer = await client.json<{ id: number, status: string, commit: string, duplicate?: true }>(encodeURIComponent(positionals[0]!), {
    method: 'POST',
    ...(values.commit === undefined ? {} : { headers: { 'content-type': 'application/json' }, body: JSON.stringify({ commit: values.commit }) })
  })
  io.stderr(`build ${answer.id} of ${positionals[0]!} at ${answer.commit}: ${answer.duplicate === true ? `already ${answer.status} (no second build)` : 'queued'}\n`)
  return values.follow === true ? follow(client, io, answer.id) : 0
}

export async function rollback (args: readonly string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseArgs({ args: [...args], allowPositionals: true, options: { to: { type: 'string' }, follow: { type: 'boolean', default: false } } })
  if (positionals.length !== 1) throw new CliError('usage: build-hook rollback <slug> [--to BUILD] [--follow]', 2)
  const to = values.to === undefined ? undefined : buildId(values.to)
  const client = api(io)
  const slug = positionals[0]!
  const build = await client.json<Build & { rollbackOf: number }>(`projects/${encodeURIComponent(slug)}/rollback`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(to === undefined ? {} : { build: to })
  })
  io.stderr(`rollback ${build.id} of ${slug} to build ${build.rollbackOf} (${build.trigger.commit.slice(0, 12)}): queued\n`)
  return values.follow === true ? follow(client, io, build.id) : 0
}

export async function builds (args: readonly string[], io: CliIo): Promise<number> {
  const { values } = parseArgs({ args: [...args], options: { project: { type: 'string' }, status: { type: 'string' }, limit: { type: 'string' } } })
  const query = new URLSearchParams(values as Record<string, string>) // only the options given
  const { builds } = await api(io).json<{ builds: Build[] }>(`builds?${query.toString()}`)
  for (const build of builds) {
    io.stdout(`${String(build.id).padStart(6)}  ${build.project.padEnd(20)}  ${build.status.padEnd(10)}  ${(build.commit ?? build.trigger.commit).slice(0, 12)}  ${build.createdAt}${build.error === null ? '' : `  ${build.error}`}\n`)
  }
  return 0
}

export async function logs (args: readonly string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseArgs({ args: [...args], allowPositionals: true, options: { follow: { type: 'boolean', default: false } } })
  const id = buildId(positionals[0])
  const client = api(io)
  if (values.follow === true) return follow(client, io, id)
  io.stdout(await (await client.request(`builds/${id}/logs`)).text())
  return 0
}

/** Runs a client command, turning its errors into a message and an exit code. */
export async function runClient (command: (args: readonly string[], io: CliIo) => Promise<number>, args: readonly string[], io: CliIo): Promise<number> {
  try {
    return await command(args, io)
  } catch (err) {
    io.stderr(`build-hook: ${(err as Error).message}\n`)
    return err instanceof CliError ? err.exitCode : 2 // otherwise parseArgs: an unknown option
  }
}
