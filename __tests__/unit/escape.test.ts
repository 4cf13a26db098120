import { describe, expect, it } from 'vitest';
import {
  ZWSP,
  codeSpan,
  escapeMarkdownText,
  link,
  neutralizeMentions,
  safeUrl,
  truncateBytes,
} from '../../src/report/escape.ts';
import { toPrintable } from '../../src/core/clean-line.ts';

/** Reads one inline code span back the CommonMark way: its content as a renderer shows it. */
function readCodeSpan(span: string): string {
  const open = /^`+/.exec(span)?.[0] ?? '';
  expect(open.length).toBeGreaterThan(0);
  const rest = span.slice(open.length);
  // The span closes at the first backtick run of exactly the opening length.
  const close = [...rest.matchAll(/`+/g)].find((m) => m[0].length === open.length);
  expect(close, `no closing fence in ${span}`).toBeDefined();
  expect(close!.index! + open.length).toBe(rest.length);
  const body = rest.slice(0, close!.index);
  return /^ .* $/s.test(body) && body.trim() !== '' ? body.slice(1, -1) : body;
}

/** Splits a table row the way GFM does: on `|` that is not escaped as `\|`. */
function splitRow(row: string): string[] {
  return row
    .replace(/^\|/, '')
    .replace(/\|$/, '')
    .split(/(?<!\\)\|/);
}

const HOSTILE = [
  'plain text',
  '`one` and ``two`` and ```three```',
  '`',
  '``start',
  'end``',
  ' padded ',
  'pipe | in | cells',
  'backslash then pipe \\| here',
  '@octocat please look, cc @vllm-project/ci-team',
  'see #1234 and GH-99 and owner/repo#5',
  '<img src=x onerror=alert(1)><script>alert(1)</script>',
  '[click](javascript:alert(1)) ![x](https://evil.example/x.png)',
  'https://evil.example/?a=b www.evil.example mail me@evil.example',
  '\x1b[31mred\x1b[0m \x1b_bk;t=1745322209921\x07stamp \x07bell \x9b31m',
  'right-to-left \u202eevil\u202c and isolate \u2066x\u2069',
  'line one\nline two\r\nline three\rfour\ttab',
  '**bold** _em_ ~~strike~~ <!-- comment --> &amp; &lt;',
  '::error::workflow command',
  // A Buildkite link is shown as its content, which is log text like any other.
  '\x1b]1339;url=javascript:alert(1);content=[click](javascript:alert(1)) @octocat #1\x07 over\b\bstrike',
];

describe('neutralizeMentions', () => {
  it('breaks mentions, team mentions, issue references and autolinks', () => {
    const out = neutralizeMentions('@octocat @org/team #12 GH-3 https://x.example www.x.example a@b.example');
    expect(out).not.toMatch(/@\w/);
    expect(out).not.toMatch(/#\d/);
    expect(out).not.toMatch(/GH-\d/);
    expect(out).not.toContain('://');
    expect(out).not.toMatch(/www\./);
    expect(out.replaceAll(ZWSP, '')).toBe('@octocat @org/team #12 GH-3 https://x.example www.x.example a@b.example');
  });

  it('leaves text without those shapes alone', () => {
    expect(neutralizeMentions('FAILED test_x.py::test_y - AssertionError')).toBe(
      'FAILED test_x.py::test_y - AssertionError',
    );
  });
});

describe('escapeMarkdownText', () => {
  it.each(HOSTILE)('makes %j inert', (text) => {
    const out = escapeMarkdownText(text);
    expect(out).not.toMatch(/[\n\r\x00-\x1f\x7f-\x9f\u202a-\u202e]/);
    // Every ASCII punctuation character is backslash-escaped, so nothing is markup.
    const unescaped = out.replace(/\\[!-/:-@[-`{-~]/g, '');
    expect(unescaped).not.toMatch(/[!-/:-@[-`{-~]/);
    expect(splitRow(`|${out}|`)).toHaveLength(1);
    const shown = out.replace(/\\(.)/g, '$1');
    expect(shown).not.toMatch(/@\w/);
    expect(shown).not.toMatch(/#\d/);
    expect(shown).not.toContain('://');
  });
});

describe('codeSpan', () => {
  it.each(HOSTILE)('holds %j verbatim, minus controls, mentions neutralised', (text) => {
    const span = codeSpan(text);
    expect(span).not.toContain('\n');
    const shown = readCodeSpan(span);
    expect(shown.replaceAll(ZWSP, '')).toBe(toPrintable(text) || ' ');
    expect(shown).not.toMatch(/@\w/);
  });

  it('sizes the fence past the longest backtick run', () => {
    expect(codeSpan('a ``` b')).toBe('````a ``` b````');
    expect(codeSpan('`x`')).toBe('`` `x` ``');
  });

  it('escapes pipes inside a table so the row keeps its cells', () => {
    for (const text of HOSTILE) {
      const cells = splitRow(`| a | ${codeSpan(text, { inTable: true })} | b |`);
      expect(cells).toHaveLength(3);
      // GFM removes the backslash of `\|` before reading the span.
      expect(readCodeSpan(cells[1]!.trim().replace(/\\\|/g, '|')).replaceAll(ZWSP, '')).toBe(toPrintable(text) || ' ');
    }
  });

  it('renders an empty string as a visible empty span', () => {
    expect(codeSpan('')).toBe('` `');
  });
});

describe('safeUrl and link', () => {
  it('only lets absolute http(s) URLs through', () => {
    expect(safeUrl('javascript:alert(1)')).toBeNull();
    expect(safeUrl('data:text/html,<b>x</b>')).toBeNull();
    expect(safeUrl('/relative')).toBeNull();
    expect(safeUrl(null)).toBeNull();
    expect(safeUrl('https://buildkite.com/vllm/ci/builds/1#0190-abc')).toBe(
      'https://buildkite.com/vllm/ci/builds/1#0190-abc',
    );
  });

  it('encodes what could end the link or a table cell', () => {
    expect(safeUrl('https://x.example/a(b)|c')).toBe('https://x.example/a%28b%29%7Cc');
  });

  it('escapes the text and drops an unsafe target', () => {
    expect(link('#12 @me', 'https://x.example/1')).toBe(`[\\#${ZWSP}12 \\@${ZWSP}me](https://x.example/1)`);
    expect(link('[x](y)', 'javascript:alert(1)')).toBe('\\[x\\]\\(y\\)');
  });
});

describe('truncateBytes', () => {
  it('keeps short text and cuts long text on a character boundary', () => {
    expect(truncateBytes('short', 10)).toBe('short');
    const cut = truncateBytes('ééééé', 7);
    expect(Buffer.byteLength(cut)).toBeLessThanOrEqual(7);
    expect(cut).toBe('éé…');
  });
});
