import type { Command, Option } from 'commander'

// Completion scripts generated from the command line's own definition, so they cannot drift from it.

export const SHELLS = ['bash', 'zsh'] as const
export type Shell = typeof SHELLS[number]

/** What completion needs to know of one command (or of the top level: name ''). */
interface Completable {
  name: string
  description: string
  options: readonly Option[]
  /** The values its first argument takes: choices, the command names (help), or files. */
  argument: readonly string[] | 'files' | null
}

function completables (program: Command): Completable[] {
  const names = program.commands.map(command => command.name())
  return [
    { name: '', description: program.description(), options: program.options, argument: null },
    ...program.commands.map(command => {
      const first = command.registeredArguments[0]
      return { name: command.name(), description: command.description(), options: command.options, argument: first?.argChoices ?? (first?.name() === 'file' ? 'files' as const : null) }
    }),
    { name: 'help', description: "show a command's help", options: [], argument: names }
  ]
}

function flags (option: Option): string[] {
  return [option.short, option.long].filter((flag): flag is string => flag !== undefined)
}

/** Single-quoted for bash and zsh. */
function quote (text: string): string {
  return `'${text.replaceAll("'", "'\\''")}'`
}

function bash (program: Command): string {
  const commands = completables(program)
  const [top] = commands
  const takesValue = (option: Option): boolean => option.required || option.optional
  // The global options' values wherever they stand (commander takes them after the command too).
  const valueCases = commands.flatMap(command => command.options.filter(takesValue).map(option => {
    const pattern = flags(option).map(flag => command.name === '' ? `*${quote(` ${flag}`)}` : quote(`${command.name} ${flag}`)).join('|')
    if (option.argChoices !== undefined) return `    ${pattern}) COMPREPLY=($(compgen -W ${quote(option.argChoices.join(' '))} -- "$cur")); return ;;`
    if (option.long!.endsWith('-file')) return `    ${pattern}) compopt -o filenames 2>/dev/null; COMPREPLY=($(compgen -f -- "$cur")); return ;;`
    return `    ${pattern}) return ;; # a value of the user's`
  }))
  const wordCases = commands.slice(1).map(command => {
    const options = [...command.options.flatMap(flags), '--help'].join(' ')
    const argument = command.argument === 'files'
      ? 'compopt -o filenames 2>/dev/null; COMPREPLY=($(compgen -f -- "$cur"))'
      : `COMPREPLY=($(compgen -W ${quote((command.argument ?? []).join(' '))} -- "$cur"))`
    return `    ${quote(command.name)}) if [[ $cur == -* ]]; then COMPREPLY=($(compgen -W ${quote(options)} -- "$cur")); else ${argument}; fi ;;`
  })
  const globalValues = top!.options.filter(takesValue).flatMap(flags).join('|')
  return `# bash completion for build-hook
# Install: build-hook completion bash > /etc/bash_completion.d/build-hook (or source it from ~/.bashrc)
_build_hook() {
  local cur=\${COMP_WORDS[COMP_CWORD]} prev=\${COMP_WORDS[COMP_CWORD-1]} command='' i
  # The command is the first word that is neither an option nor the value of a global option.
  for ((i = 1; i < COMP_CWORD; i++)); do
    case \${COMP_WORDS[i]} in
      ${globalValues}) ((i++)) ;;
      -*) ;;
      *) command=\${COMP_WORDS[i]}; break ;;
    esac
  done
  case "$command $prev" in
${valueCases.join('\n')}
  esac
  case $command in
    '') COMPREPLY=($(compgen -W ${quote([...commands.slice(1).map(command => command.name), ...top!.options.flatMap(flags), '--help'].join(' '))} -- "$cur")) ;;
${wordCases.join('\n')}
  esac
}
complete -F _build_hook build-hook
`
}

/** An _arguments spec's description: brackets and colons are syntax there. */
function zshText (text: string): string {
  return text.replace(/([[\]:\\])/g, '\\$1')
}

function zshOption (option: Option): string {
  const value = option.required || option.optional
  const description = `[${zshText(option.description)}]`
  const action = !value ? '' : option.argChoices !== undefined ? `:${option.attributeName()}:(${option.argChoices.join(' ')})` : option.long!.endsWith('-file') ? ':file:_files' : `:${option.attributeName()}: `
  const names = flags(option)
  const spec = (name: string): string => `${name}${value ? (name.startsWith('--') ? '=' : '+') : ''}`
  return names.length === 1
    ? quote(`${spec(names[0]!)}${description}${action}`)
    : `${quote(`(${names.join(' ')})`)}{${names.map(spec).join(',')}}${quote(`${description}${action}`)}`
}

function zsh (program: Command): string {
  const [top, ...commands] = completables(program)
  const specs = (command: Completable): string[] => [
    ...command.options.map(zshOption),
    quote('(- *)--help[show help]'),
    ...(command.argument === null ? [] : [quote(command.argument === 'files' ? ':file:_files' : `:${command.name === 'help' ? 'command' : 'value'}:(${command.argument.join(' ')})`)])
  ]
  const cases = commands.map(command => `      ${quote(command.name)}) _arguments -s \\\n        ${specs(command).join(' \\\n        ')} ;;`)
  return `#compdef build-hook
# zsh completion for build-hook. Load it with: source <(build-hook completion zsh)   (in ~/.zshrc, after compinit)
_build_hook() {
  local curcontext=$curcontext state line
  local -a commands=(
${commands.map(command => `    ${quote(`${command.name}:${command.description.replaceAll(':', '\\:')}`)}`).join('\n')}
  )
  _arguments -C \\
    ${specs(top!).join(' \\\n    ')} \\
    '1:command:->command' \\
    '*::argument:->argument'
  case $state in
    command) _describe -t commands 'build-hook command' commands ;;
    argument)
      case $words[1] in
${cases.join('\n')}
      esac ;;
  esac
}
compdef _build_hook build-hook
`
}

/** The completion script of `program` for `shell`. */
export function completionScript (program: Command, shell: Shell): string {
  return shell === 'bash' ? bash(program) : zsh(program)
}
