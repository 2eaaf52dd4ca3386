import t from 'tap'
import { ConfigError, parseConfig } from '../../../lib/config/index.js'
import { decodeToml, describeCharacter } from '../../../lib/config/toml-errors.js'

const SOURCE = '/x/config.toml'

/** The whole message of the syntax error a text gives. */
function syntaxError (text: string): string {
  try {
    parseConfig(text, SOURCE)
  } catch (err) {
    if ((err as ConfigError).code === 'BH_CONFIG_SYNTAX') return (err as ConfigError).message
    throw err
  }
  throw new Error('no syntax error')
}

t.test('a visible character is shown itself, with its code point', async t => {
  t.equal(describeCharacter(0xE9), "'é' (U+00E9)")
  t.equal(describeCharacter(0x1F600), "'😀' (U+1F600)")
})

t.test('an invisible character is shown by its code point and its name', async t => {
  t.equal(describeCharacter(0xA0), 'U+00A0 (no-break space)')
  t.equal(describeCharacter(0x200B), 'U+200B (zero-width space)')
  t.equal(describeCharacter(0xFEFF), 'U+FEFF (byte order mark)')
  t.equal(describeCharacter(0x09), 'U+0009 (tab)')
})

t.test('an invisible character without a name of its own is named by its kind', async t => {
  t.equal(describeCharacter(0x01), 'U+0001 (a control character)')
  t.equal(describeCharacter(0x200E), 'U+200E (an invisible formatting character)')
  t.equal(describeCharacter(0x2003), 'U+2003 (a space character)')
})

t.test('a replacement character in the file says what it stands for', async t => {
  t.equal(syntaxError('[app]\nregistry = "x"\n\uFFFD = 1\n'), `TOML syntax error in ${SOURCE}:3:1: unexpected character '\uFFFD' (U+FFFD, the replacement character, left where a byte that was not UTF-8 was replaced before this file was saved) — expected a key, a [table] or a # comment
2: registry = "x"
3> \uFFFD = 1
   ^
4:`)
})

t.test('a character where no line may start is shown with what is expected there', async t => {
  t.equal(syntaxError('a = 1\né = 2'), `TOML syntax error in ${SOURCE}:2:1: unexpected character 'é' (U+00E9) — expected a key, a [table] or a # comment
1: a = 1
2> é = 2
   ^`)
})

t.test('a printable character after a value is shown at its own column on the first line', async t => {
  t.equal(syntaxError('a = 1 §'), `TOML syntax error in ${SOURCE}:1:7: unexpected character '§' (U+00A7) — expected only whitespace or comments till end of line
1> a = 1 §
         ^`)
})

t.test('a no-break space in a key is named', async t => {
  t.equal(syntaxError('a\u00A0= 1'), `TOML syntax error in ${SOURCE}:1:2: unexpected character U+00A0 (no-break space) — expected "="
1> a\u00A0= 1
    ^`)
})

t.test('a zero-width space after a value is named', async t => {
  t.equal(syntaxError('a = 1\u200B'), `TOML syntax error in ${SOURCE}:1:6: unexpected character U+200B (zero-width space) — expected only whitespace or comments till end of line
1> a = 1\u200B
        ^`)
})

t.test('a byte order mark in the middle of the file is named', async t => {
  t.equal(syntaxError('a = \uFEFF1'), `TOML syntax error in ${SOURCE}:1:5: unexpected character U+FEFF (byte order mark) — expected string, number, datetime, boolean, inline array or inline table
1> a = \uFEFF1
       ^`)
})

t.test('columns count characters, not UTF-16 units', async t => {
  t.match(syntaxError('a = "😀" 😀'), `${SOURCE}:1:9: unexpected character '😀' (U+1F600) — expected only whitespace`)
})

t.test('a control character in a string says how to write it', async t => {
  t.equal(syntaxError('a = "x\u0001y"').split('\n')[0], `TOML syntax error in ${SOURCE}:1:7: unexpected character U+0001 (a control character) — control characters are not allowed in strings; write it as \\u0001 in a "..." string`)
})

t.test('a control character in a comment is refused without an escape to suggest', async t => {
  t.equal(syntaxError('a = 1 # x\u007F').split('\n')[0], `TOML syntax error in ${SOURCE}:1:10: unexpected character U+007F (delete) — control characters are not allowed in comments`)
})

t.test('an unknown escape is shown as written', async t => {
  t.equal(syntaxError('a = "\\q"').split('\n')[0], `TOML syntax error in ${SOURCE}:1:7: unknown escape sequence \\q — expected \\b, \\t, \\n, \\f, \\r, \\", \\\\, \\uXXXX or \\UXXXXXXXX`)
})

t.test('an escaped invisible character is named', async t => {
  t.equal(syntaxError('a = "\\\u00A0"').split('\n')[0], `TOML syntax error in ${SOURCE}:1:7: unknown escape sequence \\ followed by U+00A0 (no-break space) — expected \\b, \\t, \\n, \\f, \\r, \\", \\\\, \\uXXXX or \\UXXXXXXXX`)
})

t.test('an escape past the last code point gives the code point in hex', async t => {
  t.equal(syntaxError('a = "\\U00110000"').split('\n')[0], `TOML syntax error in ${SOURCE}:1:16: invalid escape sequence: U+110000 is past the last Unicode code point, U+10FFFF`)
})

t.test('an unexpected character inside a value says which value', async t => {
  t.equal(syntaxError('a = "\\u00g0"').split('\n')[0], `TOML syntax error in ${SOURCE}:1:10: unexpected character 'g' (U+0067) in unicode sequence — expected hex`)
})

t.test('a line that ends too early says so', async t => {
  t.equal(syntaxError('[app\n'), `TOML syntax error in ${SOURCE}:1:5: unexpected end of the line — expected whitespace, . or ]
1> [app
       ^
2:`)
})

t.test('a file that ends too early says so', async t => {
  t.equal(syntaxError('a = 1\nb = [1').split('\n')[0], `TOML syntax error in ${SOURCE}:2:7: unexpected end of the file — expected whitespace, comma (,) or close bracket (])`)
})

t.test('an error without a character keeps the parser\'s words', async t => {
  t.equal(syntaxError('a = 1\nb = "x\nc = 2\nd = 3\n'), `TOML syntax error in ${SOURCE}:2:7: Unterminated string
1: a = 1
2> b = "x
         ^
3: c = 2`)
})

t.test('a UTF-8 file decodes to its text, without a leading byte order mark', async t => {
  t.same(decodeToml(Buffer.from('\uFEFFa = "é"\n')), { ok: true, text: 'a = "é"\n' })
})

t.test('the first byte that is not UTF-8 is found by line and column, past replacement characters the file holds', async t => {
  const bytes = Buffer.concat([Buffer.from('a = "\uFFFD"\n# é caf'), Buffer.from([0xE9, 0x20, 0xFF]), Buffer.from('\nb = 1\n')])
  t.same(decodeToml(bytes), { ok: false, line: 2, column: 8, byte: 0xE9, excerpt: '1: a = "\uFFFD"\n2> # é caf\uFFFD \uFFFD\n          ^\n3: b = 1' })
})
