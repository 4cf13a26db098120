// The snippet shown for a match: the first matching line, or a window around the match.

/** Snippets longer than this become a window around the match. */
export const SNIPPET_MAX = 240;

/**
 * Trims `line` and, when longer than SNIPPET_MAX, cuts a window of about SNIPPET_MAX
 * characters centred on the match at [start, end) of the untrimmed line, marked with `…`.
 */
export function makeSnippet(line: string, start: number, end: number): string {
  const lead = line.length - line.trimStart().length;
  const text = line.trim();
  if (text.length <= SNIPPET_MAX) return text;
  const from = Math.max(0, start - lead);
  const to = Math.min(text.length, Math.max(from, end - lead));
  const matchLength = to - from;
  if (matchLength >= SNIPPET_MAX - 2) return `${from > 0 ? '…' : ''}${text.slice(from, from + SNIPPET_MAX - 2)}…`;
  const room = SNIPPET_MAX - 2 - matchLength;
  let left = Math.max(0, from - Math.floor(room / 2));
  const right = Math.min(text.length, left + SNIPPET_MAX - 2);
  left = Math.max(0, right - (SNIPPET_MAX - 2));
  const body = text.slice(left, right).trim();
  return `${left > 0 ? '…' : ''}${body}${right < text.length ? '…' : ''}`;
}
