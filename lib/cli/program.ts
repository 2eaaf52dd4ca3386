import { Argument, Command, Option } from 'commander'
import { BUILD_STATUSES } from '../schemas/build.js'
import { packageVersion } from '../package-version.js'
import { OUTPUT_FORMATS, parseBuildId, parseChoice, parseCommit, parseLimit, parseSlug, parseStatus } from './arguments.js'
import { checkConfig } from './check-config.js'
import { builds, cancel, logs, projects, rollback, trigger } from './commands.js'
import { completionScript, SHELLS } from './completion.js'
import { EXIT } from './cli-error.js'
import { HookClient } from './hook-client.js'
import type { CliIo } from './io.js'
import { serviceOf, type ServiceOptions } from './service.js'

const ROOT_HELP = `
Environment:
  HOOK_URL     the service's URL, e.g. https://hook.example.com (or --url)
  HOOK_TOKEN   a bearer token of the service (or --token-file)
               (BUILD_HOOK_URL and BUILD_HOOK_TOKEN are read when these are unset)
  CONFIG_PATH  the file check-config reads when given none

Exit codes:
  0    done; a followed build succeeded
  1    a followed build failed, was cancelled or superseded; or the service
       refused the request (4xx but 401 and 403: e.g. 404 no such build)
  2    usage error: unknown command or option, invalid argument
  3    the service cannot serve: unreachable, token refused (401, 403), server
       error (5xx), or a followed log that ended before its build (the service
       is shutting down); or no URL or token is set
  130  Ctrl-C while following a build: the build goes on

Run 'build-hook help <command>' for a command's options and examples.`

const FOLLOW_HELP = 'stream the log until the build ends; exit 0 only if it succeeded (Ctrl-C stops following, not the build)'

/** The value parser `parse`, reporting a bad value as a usage error of `command` (its message, then where its help is). */
function checked<T> (command: Command, parse: (value: string) => T): (value: string) => T {
  return value => {
    try {
      return parse(value)
    } catch (err) {
      return command.error((err as Error).message, { exitCode: EXIT.usage, code: 'build-hook.invalidArgument' })
    }
  }
}

function examples (...lines: string[]): string {
  return `\nExamples:\n${lines.map(line => `  ${line}`).join('\n')}`
}

/**
 * The `build-hook` command line, writing to `io`; each command's action stores its exit code in `exit`.
 * Commander reports usage errors by throwing (exitOverride): main turns them into exit code 2.
 */
export function cliProgram (io: CliIo, exit: { code: number }): Command {
  const program = new Command('build-hook')
    .description('Trigger, follow and inspect the builds of a build-hook service.')
    .exitOverride()
    .configureOutput({
      writeOut: io.stdout,
      writeErr: io.stderr,
      outputError: (text, write) => write(`build-hook: ${text.replace(/^error: /, '')}`)
    })
    .configureHelp({ showGlobalOptions: true })
    .helpOption('-h, --help', 'show help')
    .helpCommand('help [command]', "show a command's help")
    .version(packageVersion(import.meta.url), '-V, --version', 'print the version')
    .option('--url <url>', "the service's URL (default: $HOOK_URL)")
    .option('--token-file <file>', 'read the bearer token from this file (default: $HOOK_TOKEN)')
    .addOption(new Option('--token <token>', 'the bearer token; other users see it in ps: prefer HOOK_TOKEN or --token-file').conflicts('tokenFile'))
    .addHelpText('after', ROOT_HELP)
    .showHelpAfterError("See 'build-hook --help'.")

  const command = (name: string, description: string): Command =>
    program.command(name).description(description).showHelpAfterError(`See 'build-hook ${name} --help'.`)
  const clientOf = (sub: Command): HookClient => new HookClient(serviceOf(sub.optsWithGlobals<ServiceOptions>(), io.env))
  const output = (sub: Command, formats: ReadonlyArray<typeof OUTPUT_FORMATS[number]>, what: string): Option =>
    new Option('-o, --output <format>', what).choices(formats).argParser(checked(sub, parseChoice('output format', formats)))

  const projectsCommand = command('projects', 'list the projects, their last build and what they deployed')
  projectsCommand
    .addOption(output(projectsCommand, OUTPUT_FORMATS, 'output format').default('table'))
    .addHelpText('after', examples('build-hook projects', 'build-hook projects -o json'))
    .action(async (options: { output: 'table' | 'json' }) => {
      exit.code = await projects(clientOf(projectsCommand), io, options.output)
    })

  const buildsCommand = command('builds', 'list builds, newest first')
  buildsCommand
    .option('--project <slug>', "only this project's builds", checked(buildsCommand, parseSlug))
    .addOption(new Option('--status <status>', 'only builds in this status').choices(BUILD_STATUSES).argParser(checked(buildsCommand, parseStatus)))
    .option('--limit <n>', 'at most this many builds, 1 to 200 (default: 50)', checked(buildsCommand, parseLimit))
    .addOption(output(buildsCommand, OUTPUT_FORMATS, 'output format').default('table'))
    .addHelpText('after', examples('build-hook builds --project my-app --status failed --limit 10', 'build-hook builds -o json | jq \'.builds[0].id\''))
    .action(async (options: { project?: string, status?: typeof BUILD_STATUSES[number], limit?: number, output: 'table' | 'json' }) => {
      const { output, ...query } = options
      exit.code = await builds(clientOf(buildsCommand), io, query, output)
    })

  const logsCommand = command('logs', "print a build's log")
  logsCommand
    .argument('<id>', 'the build id', checked(logsCommand, parseBuildId))
    .option('-f, --follow', FOLLOW_HELP)
    .addHelpText('after', examples('build-hook logs 42', 'build-hook logs 42 --follow'))
    .action(async (id: number, options: { follow?: true }) => {
      exit.code = await logs(clientOf(logsCommand), io, id, options.follow === true)
    })

  const triggerCommand = command('trigger', 'build a project: its branch head, or a commit')
  triggerCommand
    .argument('<slug>', "the project's slug", checked(triggerCommand, parseSlug))
    .option('--commit <sha>', 'build this commit (40 hex digits) instead of the branch head', checked(triggerCommand, parseCommit))
    .option('-f, --follow', FOLLOW_HELP)
    .addOption(output(triggerCommand, ['json'], "print the service's answer as JSON on stdout").conflicts('follow'))
    .addHelpText('after', examples('build-hook trigger my-app --follow', 'build-hook trigger my-app --commit "$(git rev-parse HEAD)"', 'build-hook trigger my-app -o json | jq .id'))
    .action(async (slug: string, options: { commit?: string, follow?: true, output?: 'json' }) => {
      exit.code = await trigger(clientOf(triggerCommand), io, slug, { ...options, follow: options.follow === true })
    })

  const cancelCommand = command('cancel', 'cancel a queued or running build')
  cancelCommand
    .argument('<id>', 'the build id', checked(cancelCommand, parseBuildId))
    .addOption(output(cancelCommand, ['json'], "print the service's answer as JSON on stdout"))
    .addHelpText('after', examples('build-hook cancel 42'))
    .action(async (id: number, options: { output?: 'json' }) => {
      exit.code = await cancel(clientOf(cancelCommand), io, id, options.output)
    })

  const rollbackCommand = command('rollback', "deploy an earlier build's images again, without building")
  rollbackCommand
    .argument('<slug>', "the project's slug", checked(rollbackCommand, parseSlug))
    .option('--to <build>', 'the build to go back to (default: the one deployed before the current one)', checked(rollbackCommand, parseBuildId))
    .option('-f, --follow', FOLLOW_HELP)
    .addOption(output(rollbackCommand, ['json'], "print the rollback's build record as JSON on stdout").conflicts('follow'))
    .addHelpText('after', examples('build-hook rollback my-app', 'build-hook rollback my-app --to 41 --follow'))
    .action(async (slug: string, options: { to?: number, follow?: true, output?: 'json' }) => {
      exit.code = await rollback(clientOf(rollbackCommand), io, slug, { ...options, follow: options.follow === true })
    })

  command('check-config', 'validate a config file, and that this environment has the variables it names: exit 0 when valid, 1 listing every problem')
    .argument('[file]', 'the file (default: $CONFIG_PATH, else ./config.toml)')
    .option('--skip-env', "check the file alone, not this environment's variables (a config checked away from its server, e.g. in CI)")
    .addHelpText('after', examples('build-hook check-config deploy/config.toml', 'build-hook check-config deploy/config.toml --skip-env'))
    .action((file: string | undefined, options: { skipEnv?: true }) => {
      exit.code = checkConfig(file, io, { skipEnv: options.skipEnv === true })
    })

  const completionCommand = command('completion', 'print a shell completion script')
  completionCommand
    .addArgument(new Argument('<shell>', 'bash or zsh').choices(SHELLS).argParser(checked(completionCommand, parseChoice('shell', SHELLS))))
    .addHelpText('after', examples('build-hook completion bash > /etc/bash_completion.d/build-hook', 'source <(build-hook completion zsh)    # in ~/.zshrc, after compinit'))
    .action((shell: typeof SHELLS[number]) => {
      io.stdout(completionScript(program, shell))
    })

  return program
}
