// Removing what Buildkite and terminals put into log text that is not the text itself.

/**
 * One pass over escape sequences (shared/buildkite-api.md, "Log text format"):
 * - APC/OSC/DCS/PM/SOS strings `ESC _ … BEL|ESC \`: Buildkite's `_bk;t=<ms>` and `_bk;dt=`
 *   timestamps (which can sit mid-word) and OSC hyperlinks/titles;
 * - CSI sequences `ESC [ params intermediates final`: colours, cursor moves, erase-line;
 * - an unterminated `_bk;t=<ms>` marker (a cut line);
 * - any other two- or three-byte escape (`ESC ( B`, `ESC =`), and a lone ESC.
 * The string classes exclude `\n` so that the same expression can clean a block of many lines.
 */
const ESCAPES = /\x1b(?:[_\]PX^][^\x07\x1b\n]*(?:\x07|\x1b\\)|_bk;d?t=\d*|\[[0-?]*[ -/]*[@-~]|[ -/]*[0-~])?/g;

/** Removes escape sequences from a line or a block of lines. Line terminators are kept. */
export function stripEscapes(text: string): string {
  return text.includes('\x1b') ? text.replace(ESCAPES, '') : text;
}

/**
 * Splits raw log text into clean lines: escapes removed, split on `\r\n`, `\n` and bare `\r`
 * (progress bars redraw a line with `\r`; each redraw is a line of its own). This is the
 * whole-string form of what the streaming scanner does; use it for small texts.
 */
export function cleanLines(text: string): string[] {
  const lines = stripEscapes(text).split(/\r\n|\r|\n/);
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
  return stripEscapes(text).replace(/\r\n|[\r\n\t\f\v]/g, ' ').replace(CONTROLS, '');
}
