// Writing discovered signatures as a patterns file: the file `--patterns-file` reads back
// (lines trimmed, blank and `#` lines skipped, every other line a JavaScript regex with
// `--regex`), so a later scan searches for exactly what discovery found.

/** A signature to write, with the spread the caller measured for it. */
export interface PatternEntry {
  readonly signature: string;
  readonly pattern: string;
  readonly prs: number;
  readonly builds: number;
}

/**
 * One `# <signature> — N PRs, M builds` comment, then the pattern, per entry, in the given
 * order, a blank line between. Entries with the same pattern share it: their comments stand
 * together above the one line. Throws on a pattern that does not compile or is empty.
 */
export function renderPatternsFile(entries: readonly PatternEntry[]): string {
  const groups = new Map<string, string[]>();
  for (const e of entries) {
    const line = patternLine(e.pattern);
    const comment = `# ${escapeComment(e.signature)} — ${plural(e.prs, 'PR')}, ${plural(e.builds, 'build')}`;
    const comments = groups.get(line);
    if (comments) comments.push(comment);
    else groups.set(line, [comment]);
  }
  return [...groups].map(([line, comments]) => `${comments.join('\n')}\n${line}\n`).join('\n');
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

const LINE_BREAK = /[\n\r\u2028\u2029]/;

/** Line breaks and other control characters, which would end or garble a comment line. */
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/g;

function escapeComment(text: string): string {
  return text.replace(CONTROL, (c) => (c === '\n' ? '\\n' : c === '\r' ? '\\r' : c === '\t' ? '\\t' : uEscape(c)));
}

function uEscape(c: string): string {
  return `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`;
}

/**
 * The pattern as a line the reader gives back unchanged: line breaks written as escapes, the
 * whitespace trimming would drop at either end written as `\uXXXX`, and a leading `#` (which
 * would make it a comment) as `[#]`. Each rewrite matches what the original matched.
 */
function patternLine(pattern: string): string {
  if (pattern === '') throw new Error('renderPatternsFile: an empty pattern would match every line');
  try {
    new RegExp(pattern);
  } catch (error: unknown) {
    throw new Error(`renderPatternsFile: pattern does not compile: ${JSON.stringify(pattern)}`, { cause: error });
  }
  // Tokens are escapes or single characters, so `\\` then a break is told from `\` and a break.
  let line = pattern.replace(/\\[\s\S]|[\n\r\u2028\u2029]/g, (t) =>
    t.length === 1 ? uEscape(t) : LINE_BREAK.test(t[1]!) ? uEscape(t[1]!) : t,
  );
  let tail = '';
  while (/\s$/.test(line)) {
    const c = line.slice(-1);
    line = line.slice(0, -1);
    // `\ ` is an escaped space: the backslash goes with it.
    if (/(?:^|[^\\])(?:\\\\)*\\$/.test(line)) line = line.slice(0, -1);
    tail = uEscape(c) + tail;
  }
  const lead = /^\s+/.exec(line)?.[0] ?? '';
  line = [...lead].map(uEscape).join('') + line.slice(lead.length) + tail;
  return line.startsWith('#') ? `[#]${line.slice(1)}` : line;
}
