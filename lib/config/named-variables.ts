import type { ConfigFile } from './schema.js'

/** An environment variable that the config names (a secret's or token's), and every key that names it. */
export interface NamedVariable {
  name: string
  /** TOML paths, in file order, e.g. projects[0].webhook.secret_env. */
  keys: readonly string[]
}

/** A named variable that the environment lacks: unset, or set to the empty string (start-up treats both alike). */
export interface UnsetVariable extends NamedVariable {
  empty: boolean
}

/**
 * Every variable the config names, once each. app.webhook.secret_env counts only when a project uses it (one
 * without a webhook table of its own), as only then is its secret read.
 */
export function namedVariables (file: ConfigFile): NamedVariable[] {
  const keys = new Map<string, string[]>()
  const add = (name: string | undefined, key: string): void => {
    if (name !== undefined) keys.set(name, [...keys.get(name) ?? [], key])
  }
  const appSecret = file.app.webhook?.secret_env
  if (file.projects.some(project => project.webhook?.secret_env === undefined)) add(appSecret, 'app.webhook.secret_env')
  file.projects.forEach((project, i) => {
    add(project.code.token_env, `projects[${i}].code.token_env`)
    add(project.webhook?.secret_env, `projects[${i}].webhook.secret_env`)
    add(project.status?.token_env, `projects[${i}].status.token_env`)
    project.notify?.forEach((notify, j) => add(notify.secret_env, `projects[${i}].notify[${j}].secret_env`))
  })
  return [...keys].map(([name, named]) => ({ name, keys: named }))
}

/** The named variables that `env` does not set, or sets empty. */
export function unsetVariables (variables: readonly NamedVariable[], env: Readonly<Record<string, string | undefined>>): UnsetVariable[] {
  return variables.filter(variable => (env[variable.name] ?? '') === '').map(variable => ({ ...variable, empty: env[variable.name] === '' }))
}

/** What is wrong with the variable, after its name: `is not set (named by projects[0].webhook.secret_env, ...)` */
export function unsetProblem (variable: UnsetVariable): string {
  return `${variable.empty ? 'is set but empty' : 'is not set'} (named by ${variable.keys.join(', ')})`
}

/** `MY_SECRET is not set (named by projects[0].webhook.secret_env, projects[3].status.token_env)` */
export function describeUnset (variable: UnsetVariable): string {
  return `${variable.name} ${unsetProblem(variable)}`
}
