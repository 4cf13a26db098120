// Escaping hostile text for GitHub-flavoured markdown. Everything that comes from Buildkite
// (log snippets, branch names, step labels, failure reasons) was written by whoever pushed the
// code, so it is rendered as inert text: it must not ping people, inject HTML, open links,
// break out of its code span or fence, break a table row, or carry terminal escapes.
//
// Why each trick works on GitHub:
// - GitHub finds @mentions, #123 references and bare URLs in the *text nodes of the rendered
//   HTML*, so backslash escapes or HTML entities do not stop them (`&#64;user` renders as a
//   text node `@user` and still pings). A zero-width space after `@`, inside `#123`, `://`
//   and `www.` does: the text no longer has the shape those filters look for.
// - Code spans and code blocks are never scanned for mentions, references or links, and
//   their contents are never parsed as markdown or HTML. Their fence only needs to be longer
//   than any backtick run inside.
// - In a table, the row is split on `|` before inline parsing, even inside code spans; `\|`
//   is the one escape the table splitter honours (GFM spec, "Tables", example 200).

import { toPrintable } from '../core/clean-line.ts';

/** U+200B ZERO WIDTH SPACE: invisible, and breaks the shape of mentions, refs and links. */
export const ZWSP = '\u200b';

/**
 * Breaks the patterns GitHub turns into notifications or links, with a zero-width space:
 * `@user` and `@org/team` (and e-mail autolinks), `#123` and `GH-123` issue references,
 * `scheme://` and `www.` autolinks. The text reads the same.
 */
export function neutralizeMentions(text: string): string {
  return text
    .replace(/@/g, `@${ZWSP}`)
    .replace(/#(?=\d)/g, `#${ZWSP}`)
    .replace(/\b(GH)-(?=\d)/gi, `$1-${ZWSP}`)
    .replace(/:\/\//g, `:${ZWSP}//`)
    .replace(/\bwww\./gi, (m) => `${m.slice(0, 3)}${ZWSP}.`);
}

/**
 * Plain markdown text: one line, every ASCII punctuation character backslash-escaped (GFM
 * allows that escape for all of them, so no emphasis, link, HTML, entity or table pipe
 * survives), mentions, references and autolinks neutralised. Safe in a table cell and in
 * link text.
 */
export function escapeMarkdownText(text: string): string {
  // Neutralise first: the escapes would hide `://` from the pattern, not from GitHub.
  return neutralizeMentions(toPrintable(text)).replace(/[!-/:-@[-`{-~]/g, '\\$&');
}

/** The longest run of consecutive backticks in `text`. */
function longestBacktickRun(text: string): number {
  let longest = 0;
  for (const run of text.match(/`+/g) ?? []) longest = Math.max(longest, run.length);
  return longest;
}

/**
 * An inline code span holding `text` verbatim: one line, controls stripped, fenced by more
 * backticks than any run inside, padded with a space where the content starts or ends with a
 * backtick or a space (CommonMark strips exactly one space from each side). Mentions get a
 * zero-width space too: code spans do not ping, but a snippet copied out of its span must not
 * either. Pass `inTable` when the span sits in a table cell, so that `|` cannot end the cell.
 */
export function codeSpan(text: string, options: { inTable?: boolean } = {}): string {
  // An empty span would render as literal backticks.
  const body = neutralizeMentions(toPrintable(text)) || ' ';
  const fence = '`'.repeat(longestBacktickRun(body) + 1);
  // An all-space body is kept as is by CommonMark; otherwise one space is stripped per side.
  const pad = /^[` ]|[` ]$/.test(body) && body.trim() !== '' ? ' ' : '';
  const span = `${fence}${pad}${body}${pad}${fence}`;
  return options.inTable ? span.replace(/\|/g, '\\|') : span;
}

/**
 * A link destination safe inside `[text](…)` and inside a table cell, or null when `url` is not
 * an absolute http(s) URL (a `javascript:` link from hostile data must never render).
 */
export function safeUrl(url: string | null | undefined): string | null {
  if (!url) return null;
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return null;
  }
  if (parsed.protocol !== 'https:' && parsed.protocol !== 'http:') return null;
  return parsed.href.replace(
    /[()|<>"'`\\[\] ]/g,
    (c) => `%${c.charCodeAt(0).toString(16).toUpperCase().padStart(2, '0')}`,
  );
}

/** `[text](url)` with `text` escaped, or just the escaped text when the URL is not safe. */
export function link(text: string, url: string | null | undefined): string {
  const label = escapeMarkdownText(text);
  const href = safeUrl(url);
  return href ? `[${label}](${href})` : label;
}

/**
 * Cuts `text` to at most `maxBytes` of UTF-8 without splitting a character, adding `…` when cut.
 */
export function truncateBytes(text: string, maxBytes: number): string {
  if (Buffer.byteLength(text) <= maxBytes) return text;
  const ellipsis = '…';
  let budget = maxBytes - Buffer.byteLength(ellipsis);
  let out = '';
  for (const char of text) {
    const size = Buffer.byteLength(char);
    if (size > budget) break;
    out += char;
    budget -= size;
  }
  return out + ellipsis;
}
