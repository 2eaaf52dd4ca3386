export const REDACTED = '[redacted]'

// Shorter values would redact ordinary words; real tokens are far longer.
const MIN_SECRET_LENGTH = 6

/**
 * Replaces every occurrence of known secret values in text that leaves the process (build logs, error
 * messages, records). Covers the forms a git token travels in: as is, and inside HTTP Basic credentials.
 */
export class Redactor {
  readonly #needles: string[]

  constructor (secrets: Iterable<string | undefined>) {
    const needles = new Set<string>()
    for (const secret of secrets) {
      if (secret === undefined || secret.length < MIN_SECRET_LENGTH) continue
      needles.add(secret)
      needles.add(Buffer.from(`x-access-token:${secret}`).toString('base64'))
      needles.add(encodeURIComponent(secret))
      // As it appears inside a JSON string (a log line): quotes, backslashes and control characters escaped.
      needles.add(JSON.stringify(secret).slice(1, -1))
    }
    // Longest first, so that a secret containing another is replaced whole.
    this.#needles = [...needles].sort((a, b) => b.length - a.length)
  }

  redact (text: string): string {
    let result = text
    for (const needle of this.#needles) {
      if (result.includes(needle)) result = result.split(needle).join(REDACTED)
    }
    return result
  }
}
