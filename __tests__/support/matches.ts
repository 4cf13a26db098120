// The comparison every end-to-end test makes: the scanner's records against the simulator's
// independent ground truth.

import { expect } from 'vitest';
import type { MatchRecord } from '../../src/core/types.ts';
import type { ExpectedMatch } from '../../src/simulator/index.ts';

/** Equal field for field and in the same order; each snippet is its line, or a window of it. */
export function expectSameMatches(actual: readonly MatchRecord[], expected: readonly ExpectedMatch[]): void {
  expect(actual.map(({ snippet: _s, ...rest }) => rest)).toEqual(expected.map(({ line_text: _l, ...rest }) => rest));
  actual.forEach((m, i) => {
    const line = expected[i]!.line_text.trim();
    if (line.length <= 240) expect(m.snippet).toBe(line);
    else expect(line).toContain(m.snippet.replace(/^…|…$/g, ''));
  });
}
