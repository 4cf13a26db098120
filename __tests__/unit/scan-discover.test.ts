// Discovery inside the log scanner: the extractor sees exactly the lines it would see if handed
// every clean line, whatever the chunking, and blocks without a needle are never decoded for it.

import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cleanLines } from '../../src/core/clean-line.ts';
import { DISCOVER_NEEDLES, FailureExtractor } from '../../src/core/discover/extract.ts';
import { compilePatterns } from '../../src/core/patterns.ts';
import { LogScanner } from '../../src/core/scan-log.ts';

const FIXTURES = join(import.meta.dirname, '../fixtures');
const logs = readdirSync(FIXTURES).filter((f) => f.startsWith('discover-') || f.endsWith('.log'));

/** What the extractor finds when handed every clean line. */
function direct(text: string) {
  const extractor = new FailureExtractor();
  cleanLines(text).forEach((line, i) => extractor.push(i + 1, line));
  return extractor.end();
}

/** What it finds inside the scanner, fed `size`-byte chunks, beside some patterns. */
function scanned(text: string, size: number, patterns: string[] = []) {
  const extractor = new FailureExtractor();
  const visited: number[] = [];
  const scanner = new LogScanner(
    compilePatterns(patterns, false, (p) => new Error(p)),
    {
      needles: DISCOVER_NEEDLES,
      visit: (n, line) => {
        visited.push(n);
        extractor.push(n, line);
      },
    },
  );
  const bytes = Buffer.from(text);
  for (let i = 0; i < bytes.length; i += size) scanner.push(bytes.subarray(i, i + size));
  const hits = scanner.end();
  return { failures: extractor.end(), visited, hits };
}

describe('discovery in the scanner', () => {
  it('finds what the extractor finds on every clean line, for any chunking, with or without patterns', () => {
    expect(logs.length).toBeGreaterThan(5);
    for (const name of logs) {
      // Wrapped in Buildkite's markers and colour, as a real log is.
      const plain = readFileSync(join(FIXTURES, name), 'utf8');
      const raw = plain
        .split('\n')
        .map((l, i) => `\x1b_bk;t=${1_700_000_000_000 + i}\x07${i % 3 === 0 ? `\x1b[31m${l}\x1b[0m` : l}`)
        .join('\r\n');
      const expected = direct(raw);
      for (const size of [7, 64, 4096, 1 << 20]) {
        const got = scanned(raw, size, ['no such text anywhere']);
        expect(got.failures, `${name} in ${size}-byte chunks`).toEqual(expected);
        // Each line at most once, in order.
        expect([...got.visited].sort((a, b) => a - b)).toEqual(got.visited);
        expect(new Set(got.visited).size).toBe(got.visited.length);
      }
    }
  });

  it('hands over only lines holding a needle, and still matches the patterns', () => {
    const text =
      'plain line\nFAILED tests/test_a.py::test_x - AssertionError: boom\nno needle here\nERROR tests/test_b.py::test_y\n';
    const got = scanned(text, 5, ['boom']);
    expect(got.visited).toEqual([2, 4]);
    expect(got.hits).toEqual([{ line: 2, snippet: 'FAILED tests/test_a.py::test_x - AssertionError: boom', count: 1 }]);
    expect(got.failures.map((f) => [f.kind, f.line])).toEqual([
      ['pytest-failed', 2],
      ['pytest-error', 4],
    ]);
  });
});
