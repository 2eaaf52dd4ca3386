import { checkConfig } from './check-config.js'
import type { CliIo } from './io.js'

const USAGE = `usage: build-hook <command> [arguments]

commands:
  check-config [FILE]   validate a config.toml (default: $CONFIG_PATH or ./config.toml);
                        exit 0 when valid, 1 with every problem listed when not
`

/** Runs one command line; returns the exit code (2 for usage errors). */
export async function main (argv: readonly string[], io: CliIo): Promise<number> {
  const [command, ...args] = argv
  switch (command) {
    case 'check-config':
      return checkConfig(args, io)
    case 'help':
    case '--help':
    case '-h':
      io.stdout(USAGE)
      return 0
    default:
      io.stderr(command === undefined ? USAGE : `build-hook: unknown command '${command}'\n\n${USAGE}`)
      return 2
  }
}
