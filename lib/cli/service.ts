import { readFileSync } from 'node:fs'
import { CliError, EXIT } from './cli-error.js'

/** The global options that say where the service is and how to authenticate to it. */
export interface ServiceOptions {
  url?: string
  token?: string
  tokenFile?: string
}

export interface Service {
  /** The service's base URL, ending in '/'. */
  url: URL
  token: string
}

/** The variable's value, or undefined when unset or empty (an empty variable is as good as none). */
function variable (env: Record<string, string | undefined>, ...names: string[]): string | undefined {
  return names.map(name => env[name]).find(value => value !== undefined && value !== '')
}

// Never echoed whole: a URL's user name or password could be a secret. Only what stands after the last '@' of
// what could be its authority is shown, whatever else is wrong with it.
function withoutCredentials (text: string): string {
  return text.replace(/^([^/?#]*\/\/)?[^/?#]*@/, (_all, scheme: string | undefined) => `${scheme ?? ''}…@`)
}

function baseUrl (text: string): URL {
  const credentials = new CliError('invalid service URL: it holds a user name or password; give the bearer token with HOOK_TOKEN or --token-file instead', EXIT.usage)
  const notHttp = new CliError(`invalid service URL '${withoutCredentials(text)}': an http:// or https:// URL, e.g. https://hook.example.com`, EXIT.usage)
  let url: URL
  try {
    url = new URL(text)
  } catch {
    throw notHttp
  }
  if (url.username !== '' || url.password !== '') throw credentials
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw notHttp
  if (!url.pathname.endsWith('/')) url.pathname += '/'
  return url
}

function tokenOf (options: ServiceOptions, env: Record<string, string | undefined>): string {
  if (options.token !== undefined) {
    if (options.token === '') throw new CliError('--token is empty', EXIT.usage)
    return options.token
  }
  if (options.tokenFile !== undefined) {
    let text: string
    try {
      text = readFileSync(options.tokenFile, 'utf8')
    } catch (err) {
      throw new CliError(`cannot read the token file ${options.tokenFile}: ${(err as NodeJS.ErrnoException).code}`, EXIT.usage)
    }
    // A file written by `echo` or an editor ends in a newline that is no part of the token.
    const token = text.trim()
    if (token === '') throw new CliError(`the token file ${options.tokenFile} is empty`, EXIT.usage)
    return token
  }
  const token = variable(env, 'HOOK_TOKEN', 'BUILD_HOOK_TOKEN')
  if (token === undefined) throw new CliError('no bearer token: set HOOK_TOKEN, or pass --token-file FILE', EXIT.unavailable)
  return token
}

/** Where the service is: --url, else HOOK_URL (or BUILD_HOOK_URL); the token: --token, --token-file, else HOOK_TOKEN (or BUILD_HOOK_TOKEN). */
export function serviceOf (options: ServiceOptions, env: Record<string, string | undefined>): Service {
  const url = options.url ?? variable(env, 'HOOK_URL', 'BUILD_HOOK_URL')
  if (url === undefined) throw new CliError('no service URL: set HOOK_URL (e.g. https://hook.example.com), or pass --url URL', EXIT.unavailable)
  return { url: baseUrl(url), token: tokenOf(options, env) }
}
