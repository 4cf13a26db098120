// Grouping the failures of several logs by signature.

import { describe, expect, it } from 'vitest';
import { clusterFailures } from '../../../src/core/discover/cluster.ts';
import { extract, fixtureLines } from './fixtures.ts';

describe('clusterFailures', () => {
  it('groups the same failure of two builds and ranks by logs, then lines, then signature', () => {
    const logs = (['discover-summary-a.log', 'discover-summary-b.log', 'discover-engine-wrapper.log'] as const).map(
      (name) => ({ log: { job: name }, failures: extract(fixtureLines(name)) }),
    );
    const clusters = clusterFailures(logs);
    expect(clusters.map((c) => [c.occurrences.length, c.lines, c.signature.slice(0, 40)])).toEqual([
      [2, 5, 'exception ValueError: Free memory on dev'],
      [2, 3, 'pytest-error v1/engine/test_async_llm.py'],
      [2, 3, 'pytest-failed v1/engine/test_engine_core'],
      [2, 3, 'pytest-failed v1/engine/test_llm_engine.'],
      [2, 3, 'pytest-failed v1/engine/test_output_proc'],
      [2, 3, 'pytest-failed v1/entrypoints/test_comple'],
      [2, 2, 'exception OSError: [Errno <n>] error whi'],
      [1, 2, 'exception ValueError: To serve at least '],
    ]);
    const [first] = clusters;
    expect(first!.occurrences.map((o) => [o.log.job, o.line, o.count])).toEqual([
      ['discover-summary-a.log', 30, 2],
      ['discover-summary-b.log', 23, 3],
    ]);
  });

  it('keeps the first test an exception was attached to', () => {
    const failures = (testId: string | null) => [
      {
        kind: 'exception' as const,
        signature: 'exception KeyError: <n>',
        testId,
        exception: 'KeyError',
        pattern: '^KeyError: \\d+',
        line: 1,
        text: 'KeyError: 1',
        count: 1,
      },
    ];
    const [cluster] = clusterFailures([
      { log: 1, failures: failures(null) },
      { log: 2, failures: failures('t.py::a') },
      { log: 3, failures: failures('t.py::b') },
    ]);
    expect(cluster!.testId).toBe('t.py::a');
  });
});
