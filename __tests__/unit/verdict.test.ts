import { describe, expect, it } from 'vitest';
import type { BuildkiteBuild, BuildkiteJob } from '../../src/core/build.ts';
import {
  collectFlakes,
  flakesOfPullRequest,
  prNumber,
  retryChainEnd,
  toOccurrence,
  type Occurrence,
} from '../../src/core/flakes.ts';
import { judge, type Evidence } from '../../src/core/verdict.ts';

const rules = { minPrs: 2, baselineBranch: 'main' };
const evidence = (over: Partial<Evidence>): Evidence => ({
  jobs: 4,
  passedJobs: 0,
  prs: 1,
  passedOnRetry: 0,
  mainBuilds: 0,
  ...over,
});

describe('judge: each rule, in order', () => {
  it('1. noise when more than half of the matched attempts passed, whatever else holds', () => {
    expect(judge(evidence({ jobs: 5, passedJobs: 3, prs: 9, passedOnRetry: 2, mainBuilds: 1 }), rules)).toEqual({
      verdict: 'noise',
      reason: '3 of 5 matched attempts passed: the text also shows up in green jobs',
    });
    // Exactly half is not more than half.
    expect(judge(evidence({ jobs: 4, passedJobs: 2 }), rules).verdict).toBe('single');
  });

  it('2. flaky when an attempt passed on retry, even on main and in one PR', () => {
    expect(judge(evidence({ passedOnRetry: 1, mainBuilds: 3, prs: 1 }), rules)).toEqual({
      verdict: 'flaky',
      reason: 'seen in 1 PR and on main 3 times; passed on retry 1 time',
    });
  });

  it('3. broken-main when it fails on the baseline branch, even in many PRs', () => {
    expect(judge(evidence({ mainBuilds: 1, prs: 5 }), rules)).toEqual({
      verdict: 'broken-main',
      reason: 'seen in 5 PRs and on main 1 time; passed on retry 0 times',
    });
  });

  it('4. flaky when seen in at least min-prs PRs', () => {
    expect(judge(evidence({ prs: 2 }), rules).verdict).toBe('flaky');
    expect(judge(evidence({ prs: 2 }), { ...rules, minPrs: 3 }).verdict).toBe('single');
  });

  it('5. single otherwise, and says nothing of main when baseline evidence is off', () => {
    expect(judge(evidence({ prs: 0 }), { minPrs: 2, baselineBranch: null })).toEqual({
      verdict: 'single',
      reason: 'seen in 0 PRs; passed on retry 0 times',
    });
  });
});

const job = (over: Partial<BuildkiteJob> & { id: string }): BuildkiteJob => ({
  type: 'script',
  name: 'V1 Test others',
  state: 'failed',
  ...over,
});

describe('retry chains and PR numbers', () => {
  const build: BuildkiteBuild = {
    number: 5,
    jobs: [
      job({ id: 'a1', retried: true, retried_in_job_id: 'a2' }),
      job({ id: 'a2', retried: true, retried_in_job_id: 'a3' }),
      job({ id: 'a3', state: 'passed' }),
      job({ id: 'b1', retried: true, retried_in_job_id: 'b2' }),
      job({ id: 'b2', state: 'failed' }),
      job({ id: 'c1', retried: true, retried_in_job_id: 'gone' }),
      job({ id: 'd1', retried: true, retried_in_job_id: 'd2' }),
      job({ id: 'd2', retried: true, retried_in_job_id: 'd1' }),
    ],
  };
  const of = (id: string) => build.jobs!.find((j) => j.id === id)!;

  it('follows retried_in_job_id to the last attempt', () => {
    expect(retryChainEnd(build, of('a1'))).toBe('passed');
    expect(retryChainEnd(build, of('a2'))).toBe('passed');
    expect(retryChainEnd(build, of('b1'))).toBe('failed');
    expect(retryChainEnd(build, of('a3'))).toBeNull();
    expect(retryChainEnd(build, of('c1'))).toBeNull();
    expect(retryChainEnd(build, of('d1'))).toBeNull();
  });

  it('counts an attempt as passed on retry only when it did not pass and its chain ended passed', () => {
    expect(toOccurrence(build, of('a1'), 'p', 'main').passedOnRetry).toBe(true);
    expect(toOccurrence(build, of('b1'), 'p', 'main').passedOnRetry).toBe(false);
    expect(toOccurrence(build, of('a3'), 'p', 'main')).toMatchObject({ passed: true, passedOnRetry: false });
  });

  it('takes the PR from pull_request.id, else from pr/N and pull/N/... branches', () => {
    expect(prNumber({ number: 1, branch: 'owner:topic', pull_request: { id: '123' } })).toBe('123');
    expect(prNumber({ number: 1, branch: 'pr/77' })).toBe('77');
    expect(prNumber({ number: 1, branch: 'pull/88/head' })).toBe('88');
    expect(prNumber({ number: 1, branch: 'pull/99' })).toBe('99');
    expect(prNumber({ number: 1, branch: 'main', pull_request: {} })).toBeNull();
    expect(prNumber({ number: 1, branch: 'pr/7x' })).toBeNull();
  });
});

describe('collectFlakes', () => {
  const o = (over: Partial<Occurrence>): Occurrence => ({
    pattern: 'p',
    buildNumber: 10,
    createdAt: '2026-11-20T10:00:00.000Z',
    pr: '100',
    onBaseline: false,
    passed: false,
    passedOnRetry: false,
    ...over,
  });

  it('counts each evidence field and ranks by distinct PRs, then builds', () => {
    const flakes = collectFlakes(
      [
        o({ pattern: 'wide', pr: '9', buildNumber: 12, createdAt: '2026-11-22T00:00:00.000Z' }),
        o({ pattern: 'wide', pr: '10', buildNumber: 11, passedOnRetry: true }),
        o({ pattern: 'wide', pr: '10', buildNumber: 11 }),
        o({ pattern: 'wide', pr: null, buildNumber: 3, onBaseline: true, createdAt: '2026-11-01T00:00:00.000Z' }),
        o({ pattern: 'wide', pr: '200', buildNumber: 13, passed: true }),
        o({ pattern: 'narrow', pr: '5', buildNumber: 20 }),
        o({ pattern: 'narrow', pr: '5', buildNumber: 21 }),
      ],
      ['narrow', 'wide', 'none'],
      rules,
    );
    expect(flakes).toEqual([
      {
        pattern: 'wide',
        verdict: 'flaky',
        reason: 'seen in 2 PRs and on main 1 time; passed on retry 1 time',
        prs: ['9', '10'],
        builds: 4,
        jobs: 5,
        passed_on_retry: 1,
        main_builds: 1,
        first_seen: '2026-11-01T00:00:00.000Z',
        last_seen: '2026-11-22T00:00:00.000Z',
        first_build: 3,
        last_build: 13,
      },
      {
        pattern: 'narrow',
        verdict: 'single',
        reason: 'seen in 1 PR and on main 0 times; passed on retry 0 times',
        prs: ['5'],
        builds: 2,
        jobs: 2,
        passed_on_retry: 0,
        main_builds: 0,
        first_seen: '2026-11-20T10:00:00.000Z',
        last_seen: '2026-11-20T10:00:00.000Z',
        first_build: 20,
        last_build: 21,
      },
    ]);
  });

  it("keeps the patterns' order on equal spread", () => {
    const flakes = collectFlakes([o({ pattern: 'b' }), o({ pattern: 'a' })], ['a', 'b'], rules);
    expect(flakes.map((f) => f.pattern)).toEqual(['a', 'b']);
  });

  it('finds the flakes of one PR by failing evidence or by its match records', () => {
    const flakes = collectFlakes(
      [o({ pattern: 'a', pr: '1' }), o({ pattern: 'b', pr: '2' }), o({ pattern: 'c', pr: '1', passed: true })],
      ['a', 'b', 'c'],
      rules,
    );
    const matches = [{ pattern: 'c', pull_request: '1' }];
    expect(flakesOfPullRequest(flakes, matches, '1').map((f) => f.pattern)).toEqual(['a', 'c']);
    expect(flakesOfPullRequest(flakes, matches, '3')).toEqual([]);
  });
});
