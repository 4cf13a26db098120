// The CLI's tracker file: the same merge as the issue, read and written atomically.

import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Flake } from '../../src/core/flakes.ts';
import { readTrackerFile, updateTrackerFile, writeTrackerFile } from '../../src/tracker/file-store.ts';
import { mergeRun, type TrackerRun } from '../../src/tracker/state.ts';

let dir: string;
let file: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'tracker-file-'));
  file = join(dir, 'tracker.json');
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

function runOf(runAt: string, builds: readonly number[]): TrackerRun {
  const flake: Flake = {
    pattern: 'FAILED',
    verdict: 'flaky',
    reason: 'seen in several PRs',
    prs: builds.map((n) => String(n)),
    builds: builds.length,
    jobs: builds.length,
    passed_on_retry: 0,
    main_builds: 0,
    first_seen: `2026-07-${String(Math.min(...builds)).padStart(2, '0')}T00:00:00Z`,
    last_seen: `2026-07-${String(Math.max(...builds)).padStart(2, '0')}T00:00:00Z`,
    first_build: Math.min(...builds),
    last_build: Math.max(...builds),
  };
  const url = (n: number) => `https://buildkite.com/acme/ci/builds/${n}`;
  const matches = builds.map((n) => ({ build_number: n, web_url: url(n), pattern: 'FAILED' }));
  return { flakes: builds.length > 0 ? [flake] : [], matches, runAt, resolveAfter: 2 };
}

describe('tracker file', () => {
  it('starts from nothing, then merges each run into what the file holds', () => {
    expect(readTrackerFile(file)).toEqual({ state: null, problem: null });
    updateTrackerFile(file, runOf('r1', [1, 2, 3]));
    updateTrackerFile(file, runOf('r2', [2, 3, 4]));
    const { state, problem } = updateTrackerFile(file, runOf('r3', []));
    expect(problem).toBeNull();
    expect(state.flakes[0]).toMatchObject({ builds_seen: 4, prs_seen: 4, quiet_runs: 1, status: 'active' });
    expect(state.flakes[0]!.first_seen).toBe('2026-07-01T00:00:00Z');
    expect(readTrackerFile(file).state).toEqual(state);
    // Nothing but the file is left in the directory: the temporary file was renamed over it.
    expect(readdirSync(dir)).toEqual(['tracker.json']);
  });

  it('writes JSON a person can read', () => {
    writeTrackerFile(file, mergeRun(null, runOf('r1', [5])));
    expect(readFileSync(file, 'utf8')).toMatch(/^\{\n {2}"version": 1,\n/);
  });

  it('reports a file it cannot read, keeps it aside, and starts again from the run', () => {
    writeFileSync(file, '{"version": 1, "flakes": [ oops');
    const unusable = expect.stringContaining(`${file} holds no usable tracker state`);
    expect(readTrackerFile(file)).toEqual({ state: null, problem: unusable });
    const { state, problem } = updateTrackerFile(file, runOf('r1', [7]));
    expect(problem).toMatch(/kept as .*tracker\.json\.broken\)$/);
    expect(state.flakes[0]).toMatchObject({ builds_seen: 1 });
    expect(readFileSync(`${file}.broken`, 'utf8')).toBe('{"version": 1, "flakes": [ oops');
  });

  it('fails loudly when the file cannot be read at all', () => {
    expect(() => readTrackerFile(dir)).toThrow(/EISDIR/);
  });
});
