// Turning what a Buildkite agent wrote into the text a person reads (docs/buildkite-api.md, "Log
// text format"). cleanLogText is the reference; escapes.wat does the same to UTF-8 bytes, faster.
//
// The rules, in the order they apply:
// 1. Escape sequences are removed (stripEscapes), except that Buildkite's link and image sequences
//    leave the text its web view shows for them.
// 2. Control characters are removed (stripControls): C0 but tab, line breaks and backspace (rule
//    4's), DEL, C1. They go before matching, not only when shown, so that the text a pattern is
//    matched against, the snippet, the JSON and the text report are one string: a pattern copied
//    from a report matches the log, and no pattern matches a character nobody sees (terminals
//    show none).
// 3. A timestamp prefix `[2026-11-30T14:02:11Z] `, which agents started with `timestamp-lines`
//    write at the start of each line instead of the `_bk;t=` marker, is removed at the start of a
//    line, after what rules 1 and 2 removed there (stripTimestampPrefixes), so that snippets and
//    `^` patterns read the same on every agent.
// 4. Backspaces overstrike, as on a terminal (applyBackspaces), for the same reason as rule 2.
// Line breaks (`\r\n`, `\n`, bare `\r`) are kept and never created or removed by these rules.

/**
 * After an ESC, in this order (where alternatives overlap, the first wins):
 * - OSC, DCS, SOS and PM strings `ESC ] … BEL|ESC \` (`]PX^`): titles, hyperlinks, Buildkite's
 *   links and images (elementText), their bodies holding no BEL, ESC or line break;
 * - a cut timestamp `_bk;t=<ms>` or `_bk;dt=<ms>` with no terminator (a line cut inside a marker);
 * - CSI sequences `ESC [ params intermediates final`: colours, cursor moves, erase-line;
 * - any other two- or three-byte escape (`ESC ( B`, `ESC =`); else the ESC alone.
 * APC strings (`ESC _`: Buildkite's timestamps, which can sit mid-word) come first and are matched
 * by hand in stripEscapes. String bodies hold no line break (`\n`, nor the bare `\r` of progress
 * bars), so that no escape removes one and a block of lines cleans as its lines would one by one.
 */
const AFTER_ESC = /([\]PX^])([^\x07\x1b\n\r]*)(?:\x07|\x1b\\)|_bk;d?t=\d*|\[[0-?]*[ -/]*[@-~]|[ -/]*[0-~]/y;

/** What ends an APC string, or the line break it cannot reach past. */
const APC_STOP = /\x07|\x1b\\|[\n\r]/g;

/**
 * Removes escape sequences (AFTER_ESC says which), leaving the text of Buildkite's links and
 * images. An APC string `ESC _ … BEL|ESC \` is removed whole even when an ESC not followed by `\`
 * sits inside it (`ESC _bk;t=1 ESC _bk;t=2 BEL`), as a terminal hides it; without a terminator on
 * its line it is not a string, and the next alternatives apply. Line terminators are kept.
 */
export function stripEscapes(text: string): string {
  let at = text.indexOf('\x1b');
  if (at < 0) return text;
  let out = '';
  let done = 0;
  // An APC starting before this position has no terminator on its line: looking again for one
  // from each ESC _ of a long line would take time quadratic in its length.
  let apcMiss = 0;
  while (at >= 0) {
    out += text.slice(done, at);
    let end = -1;
    if (text.charCodeAt(at + 1) === 0x5f && at >= apcMiss) {
      APC_STOP.lastIndex = at + 2;
      const stop = APC_STOP.exec(text);
      if (stop && stop[0] !== '\n' && stop[0] !== '\r') end = APC_STOP.lastIndex;
      else apcMiss = stop ? stop.index : text.length;
    }
    if (end < 0) {
      AFTER_ESC.lastIndex = at + 1;
      const m = AFTER_ESC.exec(text);
      end = m ? AFTER_ESC.lastIndex : at + 1;
      if (m?.[1] === ']') out += elementText(m[2]!);
    }
    done = end;
    at = text.indexOf('\x1b', end);
  }
  return out + text.slice(done);
}

const ELEMENT_KEY = /^(?:(url)|(content)|(alt))$/i;

/**
 * The text Buildkite's web view (terminal-to-html) shows for an OSC body: `1339;…` is a link,
 * shown as its `content`, or its `url` when `content` is absent or empty; `1338;…` is an external
 * image, kept as its `alt` text, the image's own text form: a report has no images, and what a
 * step writes there (a screenshot's caption) is worth matching. Any other OSC shows nothing here:
 * titles, the `8;;url` hyperlinks (whose text is outside the sequence), `1337;File=` inline images.
 * The body is `key=value` fields split on `;`, in any order, keys in any ASCII case, the last of a
 * key winning; a backslash takes the next character literally (`\;` is `;`).
 */
function elementText(body: string): string {
  const link = body.startsWith('1339;');
  if (!link && !body.startsWith('1338;')) return '';
  let url = '';
  let content = '';
  let alt = '';
  for (const [key, value] of fields(body.slice(5))) {
    const m = ELEMENT_KEY.exec(key);
    if (m?.[1]) url = value;
    else if (m?.[2]) content = value;
    else if (m?.[3]) alt = value;
  }
  return link ? content || url : alt;
}

/** The `key=value` fields of an element's body: keys as written, values unescaped. */
function fields(args: string): [string, string][] {
  const out: [string, string][] = [];
  let start = 0;
  let eq = -1;
  for (let i = 0; ;) {
    if (i >= args.length || args[i] === ';') {
      if (eq >= 0) out.push([args.slice(start, eq), args.slice(eq + 1, i).replace(/\\([\s\S])/g, '$1')]);
      if (i >= args.length) return out;
      start = ++i;
      eq = -1;
    } else if (args[i] === '\\') {
      i = Math.min(i + 2, args.length);
    } else {
      if (eq < 0 && args[i] === '=') eq = i;
      i++;
    }
  }
}

/** C0 controls but tab, line feed, carriage return and backspace (rule 4's); DEL; C1 (U+0080-U+009F). */
const LOG_CONTROLS = /[\x00-\x07\x0b\x0c\x0e-\x1f\x7f-\x9f]/g;

/** Removes control characters; keeps tab, line breaks and backspace. Run it after stripEscapes. */
export function stripControls(text: string): string {
  return text.replace(LOG_CONTROLS, '');
}

/** `timestamp-lines` agents' prefix, tolerant to fractional seconds, with the line break before it. */
const TIMESTAMP_PREFIX = /(^|[\r\n])\[\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?Z\] /g;

/**
 * Removes the timestamp prefix at the start of each line, never mid-line. `atLineStart` says
 * whether the text itself starts a line (false for a piece cut out of a long line).
 */
export function stripTimestampPrefixes(text: string, atLineStart = true): string {
  if (!text.includes('Z] ')) return text;
  return text.replace(TIMESTAMP_PREFIX, (prefix: string, brk: string, at: number) =>
    at === 0 && brk === '' && !atLineStart ? prefix : brk,
  );
}

/**
 * Applies backspaces the way a terminal does: each moves back one character on its line (none at
 * its start) and what follows overwrites, so `X\bY` is `Y`, `_\bX` (underline, as `man` writes it)
 * is `X`, and `abc\b` is still `abc`. Characters are code points; tabs and wide characters count
 * as one, as nothing here knows the terminal's width.
 */
export function applyBackspaces(text: string): string {
  if (!text.includes('\b')) return text;
  return text
    .split(/([\r\n])/)
    .map((line) => (line.includes('\b') ? overstrike(line) : line))
    .join('');
}

function overstrike(line: string): string {
  const cells: string[] = [];
  let cursor = 0;
  for (const ch of line) {
    if (ch !== '\b') cells[cursor++] = ch;
    else if (cursor > 0) cursor--;
  }
  return cells.join('');
}

/**
 * Cleans log text by the four rules above. Line terminators are kept, so this cleans a block of
 * many lines as well as one; `atLineStart` says whether the text starts a line.
 */
export function cleanLogText(text: string, atLineStart = true): string {
  return applyBackspaces(stripTimestampPrefixes(stripControls(stripEscapes(text)), atLineStart));
}

/**
 * Splits raw log text into clean lines: cleaned, split on `\r\n`, `\n` and bare `\r` (progress
 * bars redraw a line with `\r`; each redraw is a line of its own). This is the whole-string form
 * of what the streaming scanner does; use it for small texts.
 */
export function cleanLines(text: string): string[] {
  const lines = cleanLogText(text).split(/\r\n|\r|\n/);
  if (lines.length > 0 && lines[lines.length - 1] === '') lines.pop();
  return lines;
}

/**
 * C0 and C1 controls (line breaks and tabs are turned into spaces first), plus the Unicode
 * bidi embedding, override and isolate characters that can make text display differently from
 * what it is ("Trojan Source"), and the BOM.
 */
const CONTROLS = /[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\ufeff]/g;

/**
 * Makes text from logs or the API safe to show on a terminal or in a report: escape sequences
 * and control characters removed, line breaks and tabs turned into spaces, so it is one line
 * that cannot forge others.
 */
export function toPrintable(text: string): string {
  return stripEscapes(text)
    .replace(/\r\n|[\r\n\t\f\v]/g, ' ')
    .replace(CONTROLS, '');
}
