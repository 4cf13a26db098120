// The WebAssembly cleaner (src/core/escapes.wat) against the reference, the ESCAPES regex in
// clean-line.ts: on valid UTF-8 it must remove exactly the same sequences, and count the line
// breaks of what is left as the scanner does.

import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { stripEscapes } from '../../src/core/clean-line.ts';
import { MAX_STRIP_BYTES, stripEscapeBytes } from '../../src/core/strip-bytes.ts';
import { Rng } from '../../src/simulator/prng.ts';

/** Each `\n`, and each `\r` not followed by `\n`. */
const breaksIn = (text: string) => (text.match(/\n|\r(?!\n)/g) ?? []).length;

// Pieces that make and break every alternative of the grammar, plain text, and multi-byte
// characters (none of whose bytes is ASCII).
const PIECES = [
  '\x1b', '\x1b', '\x1b[', '\x1b]', '\x1b_', '\x1bP', '\x1bX', '\x1b^', '_bk;', '_bk;t=', '_bk;dt=', 'bk;t', '1790951970000',
  '\x07', '\\', '\x1b\\', '[', ']', ';', '0', '31', 'm', '?', '!', ' ', '/', '(', 'B', '=', '~', '\x7f', '@',
  '\n', '\r', '\r\n', '\t', 'FAILED', 'tests/v1/test_kv.py::test_x', 'abcdefghijklmnopqrstuvwxyz012345',
  'é', '─', '✓', '😀', '\u0085',
];

function randomText(rng: Rng, pieces: number): string {
  let text = '';
  for (let i = 0; i < pieces; i++) text += rng.pick(PIECES);
  return text;
}

describe('stripEscapeBytes', () => {
  it('is up to date with escapes.wat', () => {
    const script = fileURLToPath(new URL('../../scripts/build-wasm.mjs', import.meta.url));
    const res = spawnSync(process.execPath, [script, '--check'], { encoding: 'utf8' });
    expect(res.stderr).toBe('');
    expect(res.status).toBe(0);
  });

  it('removes what the ESCAPES regex removes and counts the breaks left, on random text', () => {
    const rng = new Rng(20261122);
    for (let round = 0; round < 4000; round++) {
      const text = randomText(rng, rng.int(1, round % 10 === 0 ? 400 : 40));
      const expected = stripEscapes(text);
      const got = stripEscapeBytes(Buffer.from(text, 'utf8'));
      expect(got).not.toBeNull();
      expect(got!.bytes.toString('utf8'), JSON.stringify(text)).toBe(expected);
      expect(got!.breaks, JSON.stringify(text)).toBe(breaksIn(expected));
    }
  });

  it('handles sequences at every offset of the 16-byte steps and at the very end', () => {
    for (const seq of ['\x1b_bk;t=1790951970000\x07', '\x1b[1;31m', '\x1b]8;;https://x\x1b\\', '\x1b_bk;t=12', '\x1b[', '\x1b', '\r', '\r\n']) {
      for (let pad = 0; pad < 40; pad++) {
        for (const tail of ['', 'z', 'abcdefghijklmnopqrstuvwxyz\n']) {
          const text = 'x'.repeat(pad) + seq + tail;
          const got = stripEscapeBytes(Buffer.from(text))!;
          expect(got.bytes.toString('utf8'), JSON.stringify(text)).toBe(stripEscapes(text));
          expect(got.breaks).toBe(breaksIn(stripEscapes(text)));
        }
      }
    }
  });

  it('reads nothing past the output when it ends with a CR and fills the memory exactly', () => {
    // Output at [n, 2n): when nothing is removed and 2n is the memory's size, a read of the byte
    // after a final CR would trap. Each size makes the memory grow to exactly 2n.
    for (let n = 32 * 1024; n <= 2 * 1024 * 1024; n *= 2) {
      const got = stripEscapeBytes(Buffer.from(`${'a'.repeat(n - 1)}\r`))!;
      expect(got.bytes.length).toBe(n);
      expect(got.breaks).toBe(1);
    }
  });

  it('grows its memory for a large block and declines one over the limit', () => {
    const line = '\x1b_bk;t=1790951970000\x07\x1b[32mPASSED\x1b[0m tests/test_a.py::test_b\r\n';
    const text = line.repeat(Math.floor(MAX_STRIP_BYTES / line.length));
    const got = stripEscapeBytes(Buffer.from(text))!;
    expect(got.bytes.toString('latin1')).toBe(stripEscapes(text));
    expect(got.breaks).toBe(Math.floor(MAX_STRIP_BYTES / line.length));
    expect(stripEscapeBytes(Buffer.alloc(MAX_STRIP_BYTES + 1))).toBeNull();
  });
});
