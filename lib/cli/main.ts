import { CommanderError } from 'commander'
import { CliError, EXIT } from './cli-error.js'
import type { CliIo } from './io.js'
import { cliProgram } from './program.js'

/** Runs one command line; returns the exit code (README: Command-line client, Exit codes). */
export async function main (argv: readonly string[], io: CliIo): Promise<number> {
  const exit = { code: EXIT.ok as number }
  // No command at all: the overview, on stdout, as kubectl and gh give it (not an error).
  const args = argv.length === 0 ? ['--help'] : argv
  try {
    await cliProgram(io, exit).parseAsync(args, { from: 'user' })
  } catch (err) {
    // Commander has printed its message (or the help, or the version): 0 for those, a usage error otherwise.
    if (err instanceof CommanderError) return err.exitCode === 0 ? EXIT.ok : EXIT.usage
    if (!(err instanceof CliError)) throw err
    io.stderr(`build-hook: ${err.message}\n`)
    return err.exitCode
  }
  return exit.code
}
