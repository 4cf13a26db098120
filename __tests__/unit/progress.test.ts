import { afterEach, describe, expect, it, vi } from 'vitest';
import { ProgressLog } from '../../src/action/progress-log.ts';
import { describeStatus, describeWait, nextProgress, NO_PROGRESS } from '../../src/report/progress.ts';

const builds = { kind: 'builds', listed: 200, matchedBranch: 129, selectedJobs: 78 } as const;
const logs = { kind: 'logs', done: 41, total: 78, bytes: 12.34 * 1024 * 1024, matches: 5 } as const;

describe('the terminal status line', () => {
  it('shows builds, logs done of total, MB read, matches, and a wait counting down', () => {
    let state = nextProgress(NO_PROGRESS, builds);
    expect(describeStatus(state, 0)).toBe('200 builds listed, 129 on matching branches · 0/78 logs, 0.0 MB, 0 matches');
    state = nextProgress(state, logs);
    state = nextProgress(state, { kind: 'waiting', untilMs: 41_000, scope: 'user', limit: 50 });
    expect(describeStatus(state, 0)).toBe(
      "200 builds listed, 129 on matching branches · 41/78 logs, 12.3 MB, 5 matches · waiting 41 s for Buildkite's rate limit (50/min per user)",
    );
    expect(describeStatus(state, 39_500)).toContain('waiting 2 s');
    expect(describeStatus(state, 41_000)).not.toContain('waiting');
  });

  it('names the organization window and a limit it was not told', () => {
    expect(describeWait({ kind: 'waiting', untilMs: 5000, scope: 'org', limit: null }, 0)).toBe(
      "waiting 5 s for Buildkite's rate limit (per organization)",
    );
  });
});

describe('the action log', () => {
  afterEach(() => vi.useRealTimers());

  it('logs each page of builds, each wait of 3 s or more, and the logs at least every 10 s', () => {
    vi.useFakeTimers({ now: 0 });
    const lines: string[] = [];
    const log = new ProgressLog((line) => lines.push(line));
    log.update(builds);
    log.update({ kind: 'waiting', untilMs: 2000, scope: 'user', limit: 50 });
    log.update({ kind: 'waiting', untilMs: 41_000, scope: 'user', limit: 50 });
    log.update(logs);
    vi.advanceTimersByTime(10_000);
    vi.advanceTimersByTime(10_000);
    log.stop();
    vi.advanceTimersByTime(30_000);
    expect(lines).toEqual([
      'Builds: 200 listed, 129 on matching branches, 78 jobs selected',
      "Waiting 41 s for Buildkite's rate limit (50/min per user)",
      'Logs: 41 of 78 read (12.3 MB), 5 matches so far',
      'Logs: 41 of 78 read (12.3 MB), 5 matches so far',
      'Logs: 41 of 78 read (12.3 MB), 5 matches so far',
    ]);
  });
});
