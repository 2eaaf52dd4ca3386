import { type BuildRecord, type BuildStatus, builtCommit, type Deployed } from '../schemas/build.js'
import type { OutputFormat } from './arguments.js'
import { EXIT } from './cli-error.js'
import { followBuild } from './follow.js'
import type { HookClient } from './hook-client.js'
import type { CliIo } from './io.js'
import { formatAge, formatDuration, formatTable } from './table.js'

// The client commands: each asks the service, prints data on stdout and progress on stderr, and returns its exit code.

/** What `GET /projects` says of a project (the fields the table shows). */
interface Project {
  slug: string
  branch: string
  deployed: Pick<Deployed, 'build' | 'status'> | null
  lastBuild: { id: number, status: BuildStatus, commit: string, createdAt: string } | null
}

/** The answer of `POST /<slug>` to an API call: 202 queued, or 200 with `duplicate` when the commit is already queued or building. */
interface Triggered {
  id: number
  status: BuildStatus
  commit: string
  duplicate?: true
}

const SHORT_COMMIT = 12

function printJson (io: CliIo, value: unknown): void {
  io.stdout(`${JSON.stringify(value, null, 2)}\n`)
}

function or (value: string | null | undefined): string {
  return value ?? '-'
}

export async function projects (client: HookClient, io: CliIo, output: OutputFormat): Promise<number> {
  const answer = await client.json<{ projects: Project[] }>('projects')
  if (output === 'json') printJson(io, answer)
  else if (answer.projects.length === 0) io.stderr('No projects.\n')
  else {
    io.stdout(formatTable(['SLUG', 'BRANCH', 'BUILD', 'STATUS', 'COMMIT', 'CREATED', 'DEPLOYED'], answer.projects.map(({ slug, branch, lastBuild, deployed }) => [
      slug,
      branch,
      or(lastBuild && String(lastBuild.id)),
      or(lastBuild?.status),
      or(lastBuild?.commit.slice(0, SHORT_COMMIT)),
      or(lastBuild && formatAge(lastBuild.createdAt, io.now())),
      or(deployed && `${deployed.build}${deployed.status === 'succeeded' ? '' : ` (${deployed.status})`}`)
    ])))
  }
  return EXIT.ok
}

export interface BuildsQuery {
  project?: string
  status?: BuildStatus
  limit?: number
}

export async function builds (client: HookClient, io: CliIo, query: BuildsQuery, output: OutputFormat): Promise<number> {
  const search = new URLSearchParams(Object.entries(query).map(([name, value]): [string, string] => [name, String(value)]))
  const answer = await client.json<{ builds: BuildRecord[], next: number | null }>(`builds?${search.toString()}`)
  if (output === 'json') printJson(io, answer)
  else if (answer.builds.length === 0) io.stderr('No builds.\n')
  else {
    io.stdout(formatTable(['ID', 'PROJECT', 'STATUS', 'COMMIT', 'SOURCE', 'CREATED', 'DURATION', 'ERROR'], answer.builds.map(build => [
      String(build.id),
      build.project,
      build.status,
      builtCommit(build).slice(0, SHORT_COMMIT),
      build.trigger.source,
      formatAge(build.createdAt, io.now()),
      or(build.startedAt && build.finishedAt && formatDuration(Date.parse(build.finishedAt) - Date.parse(build.startedAt))),
      or(build.error)
    ])))
  }
  return EXIT.ok
}

export async function logs (client: HookClient, io: CliIo, id: number, follow: boolean): Promise<number> {
  if (follow) return followBuild(client, io, id)
  io.stdout(await client.text(`builds/${id}/logs`))
  return EXIT.ok
}

export interface TriggerOptions {
  commit?: string
  follow: boolean
  output?: 'json'
}

export async function trigger (client: HookClient, io: CliIo, slug: string, options: TriggerOptions): Promise<number> {
  const answer = await client.json<Triggered>(encodeURIComponent(slug), { method: 'POST', ...(options.commit === undefined ? {} : { body: { commit: options.commit } }) })
  io.stderr(`build ${answer.id} of ${slug} at ${answer.commit}: ${answer.duplicate === true ? `already ${answer.status} (no second build)` : 'queued'}\n`)
  if (options.output === 'json') printJson(io, answer)
  return options.follow ? followBuild(client, io, answer.id) : EXIT.ok
}

export async function cancel (client: HookClient, io: CliIo, id: number, output?: 'json'): Promise<number> {
  const answer = await client.json<{ id: number, status: 'cancelled' | 'cancelling' }>(`builds/${id}/cancel`, { method: 'POST' })
  io.stderr(answer.status === 'cancelled' ? `build ${id} cancelled\n` : `build ${id} cancelling: its processes are being interrupted\n`)
  if (output === 'json') printJson(io, answer)
  return EXIT.ok
}

export interface RollbackOptions {
  to?: number
  follow: boolean
  output?: 'json'
}

export async function rollback (client: HookClient, io: CliIo, slug: string, options: RollbackOptions): Promise<number> {
  const build = await client.json<BuildRecord>(`projects/${encodeURIComponent(slug)}/rollback`, { method: 'POST', body: options.to === undefined ? {} : { build: options.to } })
  io.stderr(`rollback ${build.id} of ${slug} to build ${build.rollbackOf} (${build.trigger.commit.slice(0, SHORT_COMMIT)}): queued\n`)
  if (options.output === 'json') printJson(io, build)
  return options.follow ? followBuild(client, io, build.id) : EXIT.ok
}
