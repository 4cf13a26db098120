// The patterns discovery hands over: each matches exactly the lines of its signature across all
// fixtures, survives a patterns file, and suits the scanner (a needle to skip blocks by, no
// lookaround, no nested quantifier, never a catch-all).

import { describe, expect, it } from 'vitest';
import { clusterFailures } from '../../../src/core/discover/cluster.ts';
import { renderPatternsFile } from '../../../src/core/discover/emit.ts';
import { compilePatterns, MIN_NEEDLE, requiredLiteral, riskyPatternWarnings } from '../../../src/core/patterns.ts';
import { extract, FIXTURES, fixtureLines } from './fixtures.ts';

const logs = FIXTURES.map((name) => {
  const lines = fixtureLines(name);
  return { log: name, lines, failures: extract(lines) };
});
const clusters = clusterFailures(logs);

/** How a patterns file is read back (settings.ts): lines trimmed, blank and `#` lines skipped. */
function readPatternsFile(text: string): string[] {
  return text
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#'));
}

describe('discovered patterns', () => {
  it('come from every kind of signature in the fixtures', () => {
    expect(new Set(clusters.map((c) => c.kind))).toEqual(
      new Set(['pytest-failed', 'pytest-error', 'exception', 'infra']),
    );
  });

  it.each(clusters.map((c) => [c.signature, c] as const))(
    '%s: matches exactly its lines in every fixture',
    (_signature, cluster) => {
      const re = new RegExp(cluster.pattern);
      for (const { log, lines, failures } of logs) {
        const expected = failures.find((f) => f.signature === cluster.signature);
        const matched = lines.filter((line) => re.test(line));
        expect(matched.length, log).toBe(expected?.count ?? 0);
        if (expected) expect(re.test(lines[expected.line - 1]!)).toBe(true);
      }
    },
  );

  it.each(clusters.map((c) => [c.signature, c.pattern] as const))('%s: suits the scanner', (_signature, pattern) => {
    const [compiled] = compilePatterns([pattern], true, (p, reason) => new Error(`${p}: ${reason}`));
    expect(compiled!.block).not.toBeNull(); // no lookaround: blocks are searched in one pass
    expect(requiredLiteral(pattern)!.length).toBeGreaterThanOrEqual(MIN_NEEDLE);
    expect(riskyPatternWarnings([compiled!])).toEqual([]);
    expect(pattern.startsWith('^')).toBe(true);
  });

  it('are never a catch-all', () => {
    const generic = [
      '',
      'Error',
      'FAILED',
      'ERROR',
      'Exception',
      'Traceback (most recent call last):',
      'E   assert False',
      'user command error: exit status 1',
      'FAILED tests/other.py::test_other - AssertionError',
      'ValueError: other',
      'Killed 1 idle worker',
    ];
    for (const { pattern } of clusters) {
      for (const line of generic)
        expect(new RegExp(pattern).test(line), `${pattern} on ${JSON.stringify(line)}`).toBe(false);
    }
  });

  it('survive a patterns file: read back, they are the same and match the same lines', () => {
    const file = renderPatternsFile(
      clusters.map((c) => ({ signature: c.signature, pattern: c.pattern, prs: 1, builds: c.occurrences.length })),
    );
    const read = readPatternsFile(file);
    expect(read).toEqual(clusters.map((c) => c.pattern));
    for (const [i, source] of read.entries()) {
      const re = new RegExp(source);
      for (const { lines, failures } of logs) {
        expect(lines.filter((l) => re.test(l)).length).toBe(
          failures.find((f) => f.signature === clusters[i]!.signature)?.count ?? 0,
        );
      }
    }
  });

  it('cannot see context: the line of an ignored exception matches a real one', () => {
    // The extractor skips what follows `Exception ignored in`; a pattern sees one line only.
    const ignored = [
      'Exception ignored in: <function Worker.__del__ at 0x7f0a3c2d1f10>',
      'ConnectionResetError: [Errno 104] Connection reset by peer',
    ];
    expect(extract(ignored)).toEqual([]);
    const reset = clusters.find((c) => c.signature === 'infra Connection reset by peer')!;
    expect(new RegExp(reset.pattern).test(ignored[1]!)).toBe(true);
  });

  it("match a section header where a summary also names the test: it is that test's failure", () => {
    const killed = clusters.find((c) => c.signature.startsWith('pytest-failed test_chunked_prefill'))!;
    const header = '_______________ test_chunked_prefill[Qwen/Qwen3-0.6B-512-True] ________________';
    expect(
      extract([
        header,
        'FAILED v1/core/test_prefix_caching.py::test_chunked_prefill[Qwen/Qwen3-0.6B-512-True] - assert 0',
      ]).map((f) => f.signature),
    ).toEqual([
      'pytest-failed v1/core/test_prefix_caching.py::test_chunked_prefill[Qwen/Qwen3-0.6B-512-True] AssertionError',
    ]);
    expect(new RegExp(killed.pattern).test(header)).toBe(true);
  });
});
