/** A TOML file's text, or where its first byte that is not UTF-8 is. */
export type DecodedToml =
  | { ok: true, text: string }
  | { ok: false, line: number, column: number, byte: number, excerpt: string }

/** What a syntax error says, where (1-based line and column, in characters) and the lines around it. */
export interface TomlSyntaxError {
  line: number
  column: number
  reason: string
  excerpt: string
}

/** The invisible and easily confused characters people paste into config files, by code point. */
const CHARACTER_NAMES: Readonly<Record<number, string>> = {
  0x00: 'NUL',
  0x09: 'tab',
  0x0B: 'vertical tab',
  0x0C: 'form feed',
  0x0D: 'carriage return',
  0x1B: 'escape',
  0x7F: 'delete',
  0xA0: 'no-break space',
  0xAD: 'soft hyphen',
  0x2007: 'figure space',
  0x200B: 'zero-width space',
  0x200C: 'zero-width non-joiner',
  0x200D: 'zero-width joiner',
  0x2028: 'line separator',
  0x2029: 'paragraph separator',
  0x202F: 'narrow no-break space',
  0x2060: 'word joiner',
  0x3000: 'ideographic space',
  0xFEFF: 'byte order mark',
  0xFFFD: 'the replacement character, left where a byte that was not UTF-8 was replaced before this file was saved'
}

const ESCAPES = '\\b, \\t, \\n, \\f, \\r, \\", \\\\, \\uXXXX or \\UXXXXXXXX'

/** A character as a user can find it: itself when it is visible, always its code point, and a name when it has one. */
export function describeCharacter (codePoint: number): string {
  const code = `U+${codePoint.toString(16).toUpperCase().padStart(4, '0')}`
  const char = String.fromCodePoint(codePoint)
  const name = CHARACTER_NAMES[codePoint]
  if (/[\p{Cc}\p{Cf}\p{Z}]/u.test(char)) {
    const kind = /\p{Cc}/u.test(char) ? 'a control character' : /\p{Cf}/u.test(char) ? 'an invisible formatting character' : 'a space character'
    return `${code} (${name ?? kind})`
  }
  return `'${char}' (${code}${name === undefined ? '' : `, ${name}`})`
}

/** Decodes a file as UTF-8 (TOML files must be), dropping a leading byte order mark. */
export function decodeToml (bytes: Uint8Array): DecodedToml {
  try {
    return { ok: true, text: new TextDecoder('utf-8', { fatal: true }).decode(bytes) }
  } catch {
    const offset = firstInvalidByte(bytes)
    const before = bytes.subarray(0, offset)
    const lineStart = before.lastIndexOf(0x0A) + 1
    // Characters, not bytes: every byte of the valid prefix but UTF-8's continuation bytes starts one.
    const column = before.subarray(lineStart).filter(byte => (byte & 0xC0) !== 0x80).length + 1
    const line = before.filter(byte => byte === 0x0A).length + 1
    const lines = new TextDecoder('utf-8').decode(bytes).split('\n')
    return { ok: false, line, column, byte: bytes[offset]!, excerpt: excerpt(lines, line, column) }
  }
}

/**
 * The offset of the first byte that is not UTF-8. Everything before the first replacement character of a
 * lenient decoding is valid, and re-encodes to the same bytes; a replacement character that the file itself
 * holds (EF BF BD) is skipped.
 */
function firstInvalidByte (bytes: Uint8Array): number {
  const lenient = new TextDecoder('utf-8', { ignoreBOM: true }).decode(bytes)
  let index = -1
  let offset: number
  do {
    index = lenient.indexOf('\uFFFD', index + 1)
    offset = Buffer.byteLength(lenient.slice(0, index))
  } while (bytes[offset] === 0xEF && bytes[offset + 1] === 0xBF && bytes[offset + 2] === 0xBD)
  return offset
}

/**
 * @iarna/toml's error, said with the character itself: its messages give a character as a decimal char code
 * (`Unknown character "233"`), and its line and column are off by one on the first line, so the position is
 * computed again from `pos` (one past the UTF-16 index of the character it stopped at).
 */
export function explainTomlError (err: { message: string, pos: number }, text: string): TomlSyntaxError {
  const index = Math.min(Math.max(err.pos - 1, 0), text.length)
  const before = text.slice(0, index)
  const lineStart = before.lastIndexOf('\n') + 1
  const line = before.split('\n').length
  const column = [...before.slice(lineStart)].length + 1
  const codePoint = text.codePointAt(index)
  const reason = explainReason(err.message.split('\n')[0]!.replace(/ at row \d+, col \d+, pos \d+:$/, ''), codePoint)
  return { line, column, reason, excerpt: excerpt(text.split('\n'), line, column) }
}

function explainReason (message: string, codePoint: number | undefined): string {
  let match: RegExpMatchArray | null
  if ((match = message.match(/^Unknown character "(\d+)"$/)) !== null) {
    return `unexpected character ${describeCharacter(Number(match[1]))} — expected a key, a [table] or a # comment`
  }
  if ((match = message.match(/^Control characters \(.*\) are not allowed in (\w+), use \\u([0-9a-f]{4}) instead$/)) !== null) {
    const hint = match[1] === 'strings' ? `; write it as \\u${match[2]!} in a "..." string` : ''
    return `unexpected character ${describeCharacter(parseInt(match[2]!, 16))} — control characters are not allowed in ${match[1]!}${hint}`
  }
  if ((match = message.match(/^Unknown escape character: (\d+)$/)) !== null) {
    const escaped = Number(match[1])
    const what = /[\p{L}\p{N}\p{P}\p{S}]/u.test(String.fromCodePoint(escaped)) ? `\\${String.fromCodePoint(escaped)}` : `\\ followed by ${describeCharacter(escaped)}`
    return `unknown escape sequence ${what} — expected ${ESCAPES}`
  }
  if ((match = message.match(/^Invalid code point (\d+)$/)) !== null) {
    return `invalid escape sequence: U+${Number(match[1]).toString(16).toUpperCase()} is past the last Unicode code point, U+10FFFF`
  }
  if ((match = message.match(/^(?:Unexpected|Invalid) character(?: in (.+?))?, expect(?:ed|ing) (.+)$/)) !== null) {
    const where = match[1] === undefined ? '' : ` in ${match[1]}`
    return `unexpected ${found(codePoint)}${where} — expected ${match[2]!}`
  }
  return message
}

function found (codePoint: number | undefined): string {
  if (codePoint === undefined) return 'end of the file'
  return codePoint === 0x0A ? 'end of the line' : `character ${describeCharacter(codePoint)}`
}

/** The line with a caret under the column, between its neighbours, as @iarna/toml prints it. */
function excerpt (lines: readonly string[], line: number, column: number): string {
  const last = Math.min(lines.length, line + 1)
  const width = String(last).length
  const out: string[] = []
  for (let number = Math.max(1, line - 1); number <= last; number++) {
    const label = String(number).padStart(width)
    if (number !== line) {
      out.push(`${label}: ${lines[number - 1]!}`)
      continue
    }
    out.push(`${label}> ${lines[number - 1]!}`, `${' '.repeat(width + 2 + column - 1)}^`)
  }
  return out.join('\n').trimEnd()
}
