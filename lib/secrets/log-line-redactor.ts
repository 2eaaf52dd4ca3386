import { parseBearerTokens } from '../bearer-tokens.js'
import { Redactor } from './redactor.js'

/**
 * The service log's last line of defence: every configured secret's value is replaced in each line before
 * it is written, whoever logged it and under whatever key. It knows the environment's own secrets from the
 * start, and every other secret once the configuration has been read (`use`).
 */
export class LogLineRedactor {
  #redactor: Redactor

  constructor (env: Readonly<Record<string, string | undefined>>) {
    this.#redactor = new Redactor([...parseBearerTokens(env.BEARER_TOKENS), env.GIT_TOKEN, env.GITHUB_TOKEN])
  }

  use (redactor: Redactor): void {
    this.#redactor = redactor
  }

  readonly redact = (line: string): string => this.#redactor.redact(line)
}
