// The tracker's merge of one run into the runs before it: exact totals over moving windows that
// overlap, the earliest first_seen kept, and the quiet-run hysteresis before a flake resolves.

import { describe, expect, it } from 'vitest';
import type { Flake } from '../../src/core/flakes.ts';
import {
  BUILDS_KEPT,
  LAST_BUILDS_KEPT,
  mergeRun,
  parseState,
  summarizeTracker,
  TRACKER_STATE_VERSION,
  type TrackerRun,
  type TrackerState,
} from '../../src/tracker/state.ts';

/** Build n of the pipeline: created n hours after July 1, from PR 500 + n % 7 (0: main). */
const createdAt = (n: number) => new Date(Date.UTC(2026, 6, 1) + n * 3_600_000).toISOString();
const prOf = (n: number) => (n % 7 === 0 ? null : String(500 + (n % 7)));
const url = (n: number) => `https://buildkite.com/acme/ci/builds/${n}`;

/** What a scan of builds `from`..`to` reports, when `hits(pattern)` says which builds match it. */
function scanWindow(
  from: number,
  to: number,
  runAt: string,
  hits: Record<string, (n: number) => boolean>,
  resolveAfter = 3,
): TrackerRun {
  const flakes: Flake[] = [];
  const matches: TrackerRun['matches'][number][] = [];
  for (const [pattern, hit] of Object.entries(hits)) {
    const builds = Array.from({ length: to - from + 1 }, (_, i) => from + i).filter(hit);
    if (builds.length === 0) continue;
    flakes.push(flakeOf(pattern, builds));
    for (const n of builds) matches.push({ build_number: n, web_url: url(n), pattern });
  }
  return { flakes, matches, runAt, resolveAfter };
}

function flakeOf(pattern: string, builds: readonly number[], fields: Partial<Flake> = {}): Flake {
  return {
    pattern,
    verdict: 'flaky',
    reason: 'seen in several PRs',
    prs: [...new Set(builds.flatMap((n) => prOf(n) ?? []))].sort(),
    builds: builds.length,
    jobs: builds.length,
    passed_on_retry: 0,
    main_builds: builds.filter((n) => prOf(n) === null).length,
    first_seen: createdAt(Math.min(...builds)),
    last_seen: createdAt(Math.max(...builds)),
    first_build: Math.min(...builds),
    last_build: Math.max(...builds),
    ...fields,
  };
}

function entry(state: TrackerState, key: string) {
  const found = state.flakes.find((f) => f.key === key);
  if (!found) throw new Error(`no ${key} in the state`);
  return found;
}

describe('mergeRun', () => {
  it("takes a first run's window as it is", () => {
    const state = mergeRun(null, scanWindow(1, 20, '2026-07-02T00:00:00Z', { FAILED: (n) => n % 3 === 0 }));
    expect(state.version).toBe(TRACKER_STATE_VERSION);
    expect(entry(state, 'FAILED')).toMatchObject({
      status: 'active',
      verdict: 'flaky',
      quiet_runs: 0,
      builds_seen: 6,
      prs_seen: 6,
      first_seen: createdAt(3),
      last_seen: createdAt(18),
      active_since: createdAt(3),
      resolved_at: null,
      last_builds: [18, 15, 12, 9, 6].map((n) => ({ number: n, url: url(n) })),
    });
  });

  it('counts builds and PRs over overlapping moving windows exactly once, and keeps the earliest first_seen', () => {
    const hit = (n: number) => n % 3 === 0 || n % 11 === 0;
    let state: TrackerState | null = null;
    // Windows of 30 builds, 10 new ones per run: each shares 20 with the one before.
    for (let run = 0; run < 6; run++) {
      state = mergeRun(state, scanWindow(1 + run * 10, 30 + run * 10, createdAt(31 + run * 10), { FAILED: hit }));
    }
    const all = Array.from({ length: 80 }, (_, i) => i + 1).filter(hit);
    const flake = entry(state!, 'FAILED');
    expect(flake.builds_seen).toBe(all.length);
    expect(flake.prs_seen).toBe(new Set(all.flatMap((n) => prOf(n) ?? [])).size);
    // The last window starts at build 51; what was first seen in build 3 stays.
    expect(flake.first_seen).toBe(createdAt(3));
    expect(flake.last_seen).toBe(createdAt(78));
  });

  it('counts a late build (finished after a newer one was counted) once, when it shows up', () => {
    let state = mergeRun(null, scanWindow(1, 10, 'r1', { FAILED: (n) => n === 4 || n === 9 }));
    state = mergeRun(state, scanWindow(1, 12, 'r2', { FAILED: (n) => n === 4 || n === 7 || n === 9 }));
    state = mergeRun(state, scanWindow(1, 14, 'r3', { FAILED: (n) => n === 4 || n === 7 || n === 9 }));
    expect(entry(state, 'FAILED').builds_seen).toBe(3);
  });

  it('stays exact for a flake in more builds than it keeps, save a late build below what it let go', () => {
    const every = () => true;
    let state = mergeRun(null, scanWindow(1, 100, 'r1', { FAILED: every }));
    state = mergeRun(state, scanWindow(51, 150, 'r2', { FAILED: every }));
    const flake = entry(state, 'FAILED');
    expect(flake.builds_seen).toBe(150);
    expect(flake.counted_builds.kept).toHaveLength(BUILDS_KEPT);
    expect(flake.counted_builds.floor).toBe(150 - BUILDS_KEPT);
    // A scan showing counted builds again adds nothing.
    expect(entry(mergeRun(state, scanWindow(1, 150, 'r3', { FAILED: every })), 'FAILED').builds_seen).toBe(150);

    // Odd builds 1..99: 50 counted, the 40 highest kept, 19 the highest let go.
    const odd = (n: number) => n % 2 === 1;
    const sparse = mergeRun(null, scanWindow(1, 100, 'r1', { FAILED: odd }));
    expect(entry(sparse, 'FAILED').counted_builds.floor).toBe(19);
    // Late builds: 50 (above the floor) is counted; 10 (below it) cannot be told from a counted one.
    const late = mergeRun(sparse, scanWindow(1, 100, 'r2', { FAILED: (n) => odd(n) || n === 50 || n === 10 }));
    expect(entry(late, 'FAILED').builds_seen).toBe(51);
  });

  it('counts baseline builds it knows by number only when the whole window is new', () => {
    // Builds 10 and 20 have match records; 3 more baseline builds in between are known by count only.
    const run = (first: number, last: number, runAt: string): TrackerRun => ({
      flakes: [flakeOf('FAILED', [first, last], { builds: 5 })],
      matches: [first, last].map((n) => ({ build_number: n, web_url: url(n), pattern: 'FAILED' })),
      runAt,
      resolveAfter: 3,
    });
    let state = mergeRun(null, run(10, 20, 'r1'));
    expect(entry(state, 'FAILED').builds_seen).toBe(5);
    // Overlapping: the unknown three may be counted already, so only the new known build is added.
    state = mergeRun(state, run(15, 25, 'r2'));
    expect(entry(state, 'FAILED').builds_seen).toBe(6);
    // Past everything counted: all five are new.
    state = mergeRun(state, run(30, 40, 'r3'));
    expect(entry(state, 'FAILED').builds_seen).toBe(11);
    expect(entry(state, 'FAILED').last_builds[0]).toEqual({ number: 40, url: url(40) });
  });

  it('keeps the latest builds, newest first, at most five', () => {
    let state = mergeRun(null, scanWindow(1, 10, 'r1', { FAILED: (n) => n < 4 }));
    state = mergeRun(state, scanWindow(5, 20, 'r2', { FAILED: (n) => n === 12 || n === 19 }));
    const numbers = entry(state, 'FAILED').last_builds.map((b) => b.number);
    expect(numbers).toEqual([19, 12, 3, 2, 1].slice(0, LAST_BUILDS_KEPT));
  });

  it('resolves a quiet flake only after resolveAfter runs without a match', () => {
    let state = mergeRun(null, scanWindow(1, 10, 'r1', { FAILED: (n) => n === 5, TIMEOUT: (n) => n === 6 }));
    const quiet = { TIMEOUT: () => true };
    const statuses: string[] = [];
    for (let run = 2; run <= 5; run++) {
      state = mergeRun(state, scanWindow(run * 10, run * 10 + 9, `2026-07-0${run}T00:00:00Z`, quiet));
      const f = entry(state, 'FAILED');
      statuses.push(`${f.status}:${f.quiet_runs}`);
    }
    expect(statuses).toEqual(['active:1', 'active:2', 'resolved:3', 'resolved:4']);
    expect(entry(state, 'FAILED').resolved_at).toBe('2026-07-04T00:00:00Z');
    expect(entry(state, 'TIMEOUT')).toMatchObject({ status: 'active', quiet_runs: 0 });
  });

  it('honours a resolveAfter of 1 and rejects one below', () => {
    const first = mergeRun(null, scanWindow(1, 10, 'r1', { FAILED: (n) => n === 5 }));
    const quiet = (resolveAfter: number): TrackerRun => ({ flakes: [], matches: [], runAt: 'r2', resolveAfter });
    expect(entry(mergeRun(first, quiet(1)), 'FAILED').status).toBe('resolved');
    expect(() => mergeRun(first, quiet(0))).toThrow(/resolveAfter/);
  });

  it('makes a resolved flake active again on its next match, its totals kept', () => {
    let state = mergeRun(null, scanWindow(1, 10, 'r1', { FAILED: (n) => n === 5 }, 1));
    state = mergeRun(state, scanWindow(11, 20, 'r2', {}, 1));
    expect(entry(state, 'FAILED').status).toBe('resolved');
    state = mergeRun(state, scanWindow(21, 30, 'r3', { FAILED: (n) => n === 25 }, 1));
    expect(entry(state, 'FAILED')).toMatchObject({
      status: 'active',
      quiet_runs: 0,
      resolved_at: null,
      builds_seen: 2,
      first_seen: createdAt(5),
      active_since: createdAt(25),
    });
  });

  it('takes the verdict and passed-on-retry count of the latest run that matched', () => {
    const run = (runAt: string, flakes: Flake[]): TrackerRun => ({ flakes, matches: [], runAt, resolveAfter: 3 });
    let state = mergeRun(null, run('r1', [flakeOf('FAILED', [5], { verdict: 'single' })]));
    state = mergeRun(state, run('r2', [flakeOf('FAILED', [8], { verdict: 'flaky', passed_on_retry: 2 })]));
    expect(entry(state, 'FAILED')).toMatchObject({ verdict: 'flaky', passed_on_retry: 2 });
    state = mergeRun(state, run('r3', []));
    expect(entry(state, 'FAILED')).toMatchObject({ verdict: 'flaky', passed_on_retry: 2, quiet_runs: 1 });
  });

  it('gives the same state for the same run merged twice, so the issue is not edited', () => {
    const run = scanWindow(1, 30, 'r1', { FAILED: (n) => n % 4 === 0 });
    const once = mergeRun(null, run);
    expect(mergeRun(once, run)).toEqual(once);
  });

  it('keys flakes by text, whatever the text ("__proto__" included)', () => {
    // Object.fromEntries makes `__proto__` an own key, as JSON.parse does.
    const hits = Object.fromEntries([
      ['__proto__', (n: number) => n === 2],
      ['constructor', (n: number) => n === 3],
    ]);
    const state = mergeRun(null, scanWindow(1, 10, 'r1', hits));
    expect(state.flakes.map((f) => f.key)).toEqual(['__proto__', 'constructor']);
  });
});

describe('parseState', () => {
  const state = mergeRun(null, scanWindow(1, 20, 'r1', { FAILED: (n) => n % 3 === 0, 'x --> <b>': (n) => n === 7 }));

  it('reads back what JSON.stringify wrote', () => {
    expect(parseState(JSON.parse(JSON.stringify(state)))).toEqual(state);
  });

  it('names what is wrong', () => {
    const json = JSON.parse(JSON.stringify(state)) as { version: number; flakes: Record<string, unknown>[] };
    expect(() => parseState({ ...json, version: 2 })).toThrow('version 2');
    expect(() => parseState({ version: 1 })).toThrow('flakes');
    const first = json.flakes[0];
    expect(() => parseState({ ...json, flakes: [{ ...first, builds_seen: -1 }] })).toThrow('flakes[0].builds_seen');
    expect(() => parseState({ ...json, flakes: [{ ...first, status: 'gone' }] })).toThrow('flakes[0].status');
    expect(() => parseState({ ...json, flakes: [first, first] })).toThrow('repeats');
    expect(() => parseState('state')).toThrow('object');
  });
});

describe('summarizeTracker', () => {
  it('gives the report file what a downstream job needs', () => {
    const state = mergeRun(null, scanWindow(1, 10, '2026-07-02T00:00:00Z', { FAILED: (n) => n === 4 }));
    expect(summarizeTracker(state, 912)).toEqual({
      issue: 912,
      flakes: [
        { pattern: 'FAILED', first_seen: createdAt(4), last_seen: createdAt(4), quiet_runs: 0, status: 'active' },
      ],
    });
  });
});
