import { checkConfig } from './check-config.js'
import { builds, logs, rollback, runClient, trigger } from './client.js'
import type { CliIo } from './io.js'

const USAGE = `usage: build-hook <command> [arguments]

commands:
  check-config [FILE]   validate a config.toml (default: $CONFIG_PATH or ./config.toml);
                        exit 0 when valid, 1 with every problem listed when not

  trigger <slug> [--commit SHA] [--follow]
                        build the project (its branch head, or SHA); with --follow, stream
                        the log and exit 0 only if the build succeeds
  rollback <slug> [--to BUILD] [--follow]
                        deploy the images of an earlier build again, without building:
                        BUILD, or the build deployed before the current one
  builds [--project SLUG] [--status STATUS] [--limit N]
                        list builds, newest first
  logs <id> [--follow]  print a build's log; with --follow, until it ends (exit 0 only if it
                        succeeded)

The client commands read the service's URL from BUILD_HOOK_URL and a bearer token from
BUILD_HOOK_TOKEN.
`

/** Runs one command line; returns the exit code (2 for usage errors). */
export async function main (argv: readonly string[], io: CliIo): Promise<number> {
  const [command, ...args] = argv
  switch (command) {
    case 'check-config':
      return checkConfig(args, io)
    case 'trigger':
      return runClient(trigger, args, io)
    case 'rollback':
      return runClient(rollback, args, io)
    case 'builds':
      return runClient(builds, args, io)
    case 'logs':
      return runClient(logs, args, io)
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
