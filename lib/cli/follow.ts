import type { BuildRecord } from '../schemas/build.js'
import { CliError, EXIT } from './cli-error.js'
import { type HookClient, networkReason } from './hook-client.js'
import type { CliIo } from './io.js'

/** How the service's last line starts when its shutdown ends a log stream (lib/builds/log-follower.ts). */
const SHUTDOWN_LINE = '[build-hook] build-hook is shutting down: '

/**
 * Streams a build's log to stdout as it comes until the build ends, then says how it ended on stderr; returns
 * the exit code: 0 only when it succeeded. The service follows a build through every attempt and ends the
 * stream when the build ends; only its shutdown ends it earlier. Ctrl-C stops following, never the build.
 */
export async function followBuild (client: HookClient, io: CliIo, id: number): Promise<number> {
  const interrupt = new AbortController()
  const stopListening = io.onInterrupt(() => interrupt.abort())
  let broken: string | null = null
  let last = ''
  try {
    const log = await client.open(`builds/${id}/logs?follow=true`, { signal: interrupt.signal })
    log.setEncoding('utf8')
    for await (const text of log) {
      io.stdout(text as string)
      last = (last + (text as string)).slice(-SHUTDOWN_LINE.length - 200)
    }
  } catch (err) {
    if (!interrupt.signal.aborted) {
      if (err instanceof CliError) throw err
      broken = networkReason(err as NodeJS.ErrnoException)
    }
  } finally {
    stopListening()
  }
  if (interrupt.signal.aborted) {
    io.stderr(`build ${id} goes on; follow it again with: build-hook logs ${id} --follow (or stop it with: build-hook cancel ${id})\n`)
    return EXIT.interrupted
  }
  if (broken !== null) io.stderr(`build-hook: the log stream of build ${id} broke: ${broken}\n`)
  const stillOn = (status: string): number => {
    io.stderr(`build ${id} is still ${status}: the service ended the log stream (follow it again with: build-hook logs ${id} --follow)\n`)
    return EXIT.unavailable
  }
  let build: BuildRecord
  try {
    build = await client.json<BuildRecord>(`builds/${id}`)
  } catch (err) {
    // The service ended the stream because it shuts down, and is gone by now: the build has no outcome yet.
    if (err instanceof CliError && err.exitCode === EXIT.unavailable && last.includes(SHUTDOWN_LINE)) return stillOn('queued or running')
    throw err
  }
  if (build.status === 'queued' || build.status === 'running') return stillOn(build.status)
  io.stderr(`build ${id} ${build.status}${build.error === null ? '' : `: ${build.error}`}\n`)
  return build.status === 'succeeded' ? EXIT.ok : EXIT.failed
}
