// The WebAssembly cleaner (src/core/escapes.wat) against the reference, cleanLogText in
// clean-line.ts: on valid UTF-8 it must give exactly the same text, or decline (null) only for
// what it leaves to the text rules, and count the line breaks of what is left as the scanner does.

import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { cleanLogText, stripControls, stripEscapes } from '../../src/core/clean-line.ts';
import { MAX_STRIP_BYTES, cleanLogBytes } from '../../src/core/strip-bytes.ts';
import { Rng } from '../../src/simulator/prng.ts';

/** Each `\n`, and each `\r` not followed by `\n`. */
const breaksIn = (text: string) => (text.match(/\n|\r(?!\n)/g) ?? []).length;

/**
 * Whether the module may decline the text: after rules 1 and 2 it holds a backspace, or a line
 * starting with `[` (where a prefix could have been assembled).
 */
const mayDecline = (text: string, atLineStart: boolean) => {
  const partly = stripControls(stripEscapes(text));
  return partly.includes('\b') || /[\r\n]\[/.test(partly) || (atLineStart && partly.startsWith('['));
};

const STAMP = '[2026-11-30T14:02:11Z] ';

// Pieces that make and break every alternative of the grammar and every rule, plain text, and
// multi-byte characters (none of whose bytes is ASCII).
const PIECES = [
  '\x1b',
  '\x1b',
  '\x1b[',
  '\x1b]',
  '\x1b_',
  '\x1bP',
  '\x1bX',
  '\x1b^',
  '_bk;',
  '_bk;t=',
  '_bk;dt=',
  'bk;t',
  '1790951970000',
  '\x07',
  '\\',
  '\x1b\\',
  '[',
  ']',
  ';',
  '0',
  '31',
  'm',
  '?',
  '!',
  ' ',
  '/',
  '(',
  'B',
  '=',
  '~',
  '\x7f',
  '@',
  '\n',
  '\r',
  '\r\n',
  '\t',
  'FAILED',
  'tests/v1/test_kv.py::test_x',
  'abcdefghijklmnopqrstuvwxyz012345',
  'é',
  '─',
  '✓',
  '😀',
  '\u0085',
  '\u009b',
  '\u00a0',
  '\u00c2',
  // Links and images, their fields and escapes.
  '\x1b]1339;',
  '\x1b]1338;',
  '\x1b]1337;File=',
  '1339;',
  'url=',
  'URL=',
  'content=',
  'Content=',
  'alt=',
  'https://x.example/a',
  '\\;',
  '\\\\',
  '\\é',
  'link text',
  // Controls, backspaces, timestamp prefixes whole and in parts.
  '\x00',
  '\x08',
  '\x0b',
  '\x0c',
  '\x1f',
  '_\x08',
  STAMP,
  '[2026-11-30T14:02:11.123Z] ',
  '[2026-11-30T14:02',
  ':11Z] ',
  '2026-',
  'Z] ',
];

const FIELDS = [
  'url=https://x.example/a',
  'URL=u\\;v',
  'content=FAILED',
  'Content=',
  'content=a\\;b\\',
  'alt=shot',
  'x',
  '',
  'é=😀',
  'url',
];

/** An OSC string whose body is fields, so that links and images come up often. */
function randomElement(rng: Rng): string {
  const kind = rng.pick(['1339;', '1338;', '1337;File=', '8;;', '0;', '1339']);
  const fields = Array.from({ length: rng.int(0, 4) }, () => rng.pick([...FIELDS, rng.pick(PIECES)]));
  return `\x1b]${kind}${fields.join(';')}${rng.pick(['\x07', '\x1b\\'])}`;
}

/** Random text from PIECES and elements; with no backspace when `plain`, so more of it takes the fast path. */
function randomText(rng: Rng, pieces: number, plain: boolean): string {
  let text = '';
  for (let i = 0; i < pieces; i++) {
    const piece = rng.chance(0.1) ? randomElement(rng) : rng.pick(PIECES);
    if (!plain || !piece.includes('\b')) text += piece;
  }
  return text;
}

/**
 * Cleans `text` both ways, the module with and without its `thorough` hint, and checks that they
 * agree; returns whether the module declined.
 */
function compare(text: string, atLineStart = true): boolean {
  const expected = cleanLogText(text, atLineStart);
  // Read at once: the bytes are a view of the module's memory, which the next call reuses.
  const [fast, thorough] = [false, true].map((hint) => {
    const got = cleanLogBytes(Buffer.from(text, 'utf8'), atLineStart, hint);
    return got && { text: got.bytes.toString('utf8'), breaks: got.breaks };
  });
  expect(thorough === null, `declined one way only: ${JSON.stringify(text)}`).toBe(fast === null);
  if (fast === null) {
    expect(mayDecline(text, atLineStart), `declined ${JSON.stringify(text)}`).toBe(true);
    return true;
  }
  const want = { text: expected, breaks: breaksIn(expected) };
  for (const got of [fast, thorough]) expect(got, JSON.stringify(text)).toEqual(want);
  return false;
}

describe('cleanLogBytes', () => {
  it('is up to date with escapes.wat', () => {
    const script = fileURLToPath(new URL('../../scripts/build-wasm.mjs', import.meta.url));
    const res = spawnSync(process.execPath, [script, '--check'], { encoding: 'utf8' });
    expect(res.stderr).toBe('');
    expect(res.status).toBe(0);
  });

  it('cleans as cleanLogText does and counts the breaks left, on random text, at a line start or not', () => {
    const rng = new Rng(20261122);
    let declined = 0;
    const rounds = 6000;
    for (let round = 0; round < rounds; round++) {
      const text = randomText(rng, rng.int(1, round % 10 === 0 ? 400 : 40), round % 2 === 0);
      if (compare(text, round % 3 !== 0)) declined++;
    }
    // Most texts here hold a backspace or a `[` somewhere; still, most must take the fast path.
    expect(declined).toBeLessThan(rounds / 2);
  });

  it('handles each construct at every offset of the 16-byte steps and at the very end', () => {
    const seqs = [
      '\x1b_bk;t=1790951970000\x07',
      '\x1b[1;31m',
      '\x1b]8;;https://x\x1b\\',
      '\x1b_bk;t=12',
      '\x1b[',
      '\x1b',
      '\r',
      '\r\n',
      '\x1b]1339;url=https://x.example/a;content=FAIL\\;ED\x07',
      '\x1b]1339;content=é\\\\x;url=u\x1b\\',
      '\x1b]1339;url=https://u\x07',
      '\x1b]1338;url=https://i.example/x.png;alt=screenshot\x07',
      '\x1b]1337;File=name=eC5wbmc=;inline=1:AAAA\x07',
      '\x1b_bk;t=1\x1b_bk;t=2\x07',
      '\x1b_x\x1b[0m\x1b\\',
      '\x00\x07\x7f\u0085\u009b',
      '\u00a0',
      '\n' + STAMP,
      '\r' + STAMP,
      '\n\x1b_bk;t=1\x07\x1b[32m' + STAMP,
      '\n[2026-11-30T14:02:11.5Z] ',
      '\n[2026-11-30T14:02:11Z]x',
      '\n[gw0] ',
      STAMP,
    ];
    for (const seq of seqs) {
      for (let pad = 0; pad < 40; pad++) {
        for (const tail of ['', 'z', 'abcdefghijklmnopqrstuvwxyz\n']) {
          expect(compare('x'.repeat(pad) + seq + tail)).toBe(false);
          expect(compare(seq + 'x'.repeat(pad) + tail, false)).toBe(false);
        }
      }
    }
  });

  it('declines a backspace, and a prefix only cleaning assembles, wherever they fall', () => {
    const seqs = [
      'X\bY',
      '\n[2026\x1b[0m-11-30T14:02:11Z] ',
      '\n[\x002026-11-30T14:02:11Z] ',
      '\n\x1b]1339;url=u;content=[x\x07',
    ];
    for (const seq of seqs) {
      for (let pad = 0; pad < 40; pad++) expect(compare('x'.repeat(pad) + seq + 'tail')).toBe(true);
    }
  });

  it('searches once for the end of unterminated APC strings on a long line', () => {
    // Were each `ESC _` to look for its end again, both cleaners would take time quadratic in the
    // line's length: hours for this one, far past the test's timeout.
    expect(compare(`${'\x1b_x'.repeat(200_000)}\n`)).toBe(false);
  });

  it('reads nothing past the output when it ends with a CR and fills the memory exactly', () => {
    // Output at [n, 2n): when nothing is removed and 2n is the memory's size, a read of the byte
    // after a final CR would trap. Each size makes the memory grow to exactly 2n.
    for (let n = 32 * 1024; n <= 2 * 1024 * 1024; n *= 2) {
      const got = cleanLogBytes(Buffer.from(`${'a'.repeat(n - 1)}\r`))!;
      expect(got.bytes.length).toBe(n);
      expect(got.breaks).toBe(1);
    }
  });

  it('grows its memory for a large block and declines one over the limit', () => {
    const line = '\x1b_bk;t=1790951970000\x07\x1b[32mPASSED\x1b[0m tests/test_a.py::test_b\r\n';
    const text = line.repeat(Math.floor(MAX_STRIP_BYTES / line.length));
    const got = cleanLogBytes(Buffer.from(text))!;
    expect(got.bytes.toString('latin1')).toBe(cleanLogText(text));
    expect(got.breaks).toBe(Math.floor(MAX_STRIP_BYTES / line.length));
    expect(cleanLogBytes(Buffer.alloc(MAX_STRIP_BYTES + 1))).toBeNull();
  });
});
