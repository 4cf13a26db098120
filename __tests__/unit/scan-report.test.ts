import { describe, expect, it } from 'vitest';
import type { BuildkiteBuild, BuildkiteJob } from '../../src/core/build.ts';
import { buildScanReport, type JobResult } from '../../src/core/scan-report.ts';
import { compilePatterns } from '../../src/core/patterns.ts';
import { SlowPatternError, TimedScanner } from '../../src/core/timed-scanner.ts';

const build: BuildkiteBuild = {
  number: 9,
  branch: 'pr/9',
  state: 'failed',
  web_url: 'https://buildkite.com/o/p/builds/9',
};
const job = (id: string): BuildkiteJob => ({ id, type: 'script', name: `step ${id}`, state: 'failed' });
const counters = {
  listed: 12,
  matchedBranch: 4,
  baselineBuilds: 1,
  windowStart: '2026-11-01T00:00:00Z',
  windowEnd: '2026-11-02T00:00:00Z',
  requests: 30,
  rateLimited: 2,
};
const rules = { minPrs: 2, baselineBranch: 'main' };

describe('buildScanReport', () => {
  it('turns outcomes into records in job order, failures named, and the footer counts', () => {
    const results: JobResult[] = [
      {
        build,
        job: job('a'),
        outcome: {
          kind: 'scanned',
          hits: [null, { line: 5, snippet: 'x', count: 2 }],
          bytes: 100,
          cached: true,
          failures: [],
        },
        evidenceOnly: false,
      },
      { build, job: job('b'), outcome: { kind: 'missing' }, evidenceOnly: false },
      { build, job: job('c'), outcome: { kind: 'failed', reason: 'GET … answered 503' }, evidenceOnly: false },
      {
        build,
        job: job('d'),
        outcome: {
          kind: 'scanned',
          hits: [{ line: 1, snippet: 'y', count: 1 }, null],
          bytes: 50,
          cached: false,
          failures: [],
        },
        evidenceOnly: false,
      },
      {
        build: { ...build, number: 3, branch: 'main' },
        job: job('e'),
        outcome: {
          kind: 'scanned',
          hits: [{ line: 2, snippet: 'z', count: 1 }, null],
          bytes: 70,
          cached: false,
          failures: [],
        },
        evidenceOnly: true,
      },
      {
        build: { ...build, number: 3, branch: 'main' },
        job: job('f'),
        outcome: { kind: 'failed', reason: 'x' },
        evidenceOnly: true,
      },
    ];
    const report = buildScanReport(results, ['p0', 'p1'], counters, ['w'], rules);
    expect(report.matches.map((m) => [m.job_id, m.pattern, m.line, m.count])).toEqual([
      ['a', 'p1', 5, 2],
      ['d', 'p0', 1, 1],
    ]);
    expect(report.failures).toEqual([
      {
        build_number: 9,
        job_id: 'c',
        step_label: 'step c',
        job_url: 'https://buildkite.com/o/p/builds/9#c',
        reason: 'GET … answered 503',
      },
    ]);
    expect(report.warnings).toEqual(['w']);
    expect(report.stats).toEqual({
      builds_scanned: 12,
      builds_matched_branch: 4,
      jobs_selected: 4,
      jobs_scanned: 2,
      logs_missing: 1,
      logs_failed: 1,
      logs_from_cache: 1,
      bytes_scanned: 150,
      requests: 30,
      rate_limited: 2,
      window_start: '2026-11-01T00:00:00Z',
      window_end: '2026-11-02T00:00:00Z',
      baseline_builds: 1,
      baseline_jobs_selected: 2,
      baseline_jobs_scanned: 1,
      baseline_logs_failed: 1,
    });
    // Evidence-only matches count in the flakes, never as records.
    expect(report.flakes.map((f) => [f.pattern, f.builds, f.jobs, f.main_builds, f.prs])).toEqual([
      ['p0', 2, 2, 1, ['9']],
      ['p1', 1, 1, 0, ['9']],
    ]);
  });

  it('reports an empty scan', () => {
    const report = buildScanReport([], ['p'], { ...counters, listed: 0, matchedBranch: 0 }, [], rules);
    expect(report.matches).toEqual([]);
    expect(report.stats.jobs_selected).toBe(0);
  });
});

describe('TimedScanner', () => {
  const patterns = compilePatterns(['slow', 'fast'], false, (p) => new Error(p));

  it('matches like the scanner while within its budget', () => {
    let t = 0;
    const scanner = new TimedScanner(patterns, 100, () => (t += 1));
    scanner.push(Buffer.from('a fast line\nanother\n'));
    expect(scanner.end().map((h) => h?.line ?? null)).toEqual([null, 1]);
    expect(scanner.bytes).toBe(20);
  });

  it('stops with SlowPatternError once the clock passes the budget, naming the slowest pattern', () => {
    // The clock's readings in order: the first push (1 ms), the second push (2 ms: over the
    // 2.5 ms budget), then the probe of each pattern on that chunk: "slow" 1 ms, "fast" 40 ms.
    const readings = [0, 1, 10, 12, 20, 21, 30, 70];
    const scanner = new TimedScanner(patterns, 2.5, () => readings.shift() ?? 100);
    const chunk = Buffer.from('a line\n');
    scanner.push(chunk);
    expect(() => scanner.push(chunk)).toThrow(SlowPatternError);
    expect(readings).toEqual([]);
  });

  it('says which pattern took longest and the budget', () => {
    const readings = [0, 5, 10, 11, 20, 60];
    const scanner = new TimedScanner(patterns, 2, () => readings.shift() ?? 100);
    expect(() => scanner.push(Buffer.from('a line\n'))).toThrow(
      /^matching one log took more than 2 ms, most of it in pattern "fast": the regex likely backtracks catastrophically/,
    );
  });
});
