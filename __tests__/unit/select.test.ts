import { describe, expect, it } from 'vitest';
import type { BuildkiteBuild, BuildkiteJob } from '../../src/core/build.ts';
import { matchesBranch, pullRequestId, selectJobs, toMatchRecord } from '../../src/core/select.ts';

const prBuild: BuildkiteBuild = {
  number: 7,
  branch: 'tanyuqian:main',
  pull_request: { id: '1234', base: 'main', repository: 'x' },
};
const job = (over: Partial<BuildkiteJob>): BuildkiteJob => ({
  id: 'j',
  type: 'script',
  name: ':nvidia: V1 Test others',
  state: 'failed',
  started_at: '2026-11-01T00:00:00Z',
  ...over,
});

describe('branch filter', () => {
  const spec = /^pull\/|^pr\//;
  it('keeps PR builds by pull_request even with owner:branch names', () => {
    expect(matchesBranch(prBuild, spec)).toBe(true);
    expect(matchesBranch({ number: 1, branch: 'main', pull_request: null }, spec)).toBe(false);
    expect(matchesBranch({ number: 1, branch: 'main', pull_request: {} }, spec)).toBe(false);
    expect(matchesBranch({ number: 1, branch: 'pull/9/head' }, spec)).toBe(true);
    expect(matchesBranch({ number: 1, branch: null }, /^$/)).toBe(true);
    expect(pullRequestId({ number: 1, pull_request: { id: 55 } })).toBe('55');
  });
});

describe('selectJobs', () => {
  it('keeps started script jobs whose name contains the step, any case, retried attempts included', () => {
    const build: BuildkiteBuild = {
      number: 1,
      jobs: [
        job({ id: 'a', retried: true }),
        job({ id: 'b', name: 'v1 test OTHERS (cpu)' }),
        job({ id: 'block', type: 'manual', name: null, label: 'Run V1 Test others' }),
        job({ id: 'never', started_at: null }),
        job({ id: 'other', name: 'Entrypoints Test' }),
        { id: 'w', type: 'waiter' },
        job({ id: 'label-only', name: null, label: 'V1 Test others' }),
      ],
    };
    expect(selectJobs(build, { step: 'V1 TEST others', jobStates: null }).map((j) => j.id)).toEqual([
      'a',
      'b',
      'label-only',
    ]);
    expect(selectJobs(build, { step: 'v1 test others', jobStates: ['passed'] })).toEqual([]);
    expect(selectJobs({ number: 2, jobs: null }, { step: 'x', jobStates: null })).toEqual([]);
  });

  it('builds a record with every field', () => {
    const record = toMatchRecord(
      {
        ...prBuild,
        state: 'failed',
        web_url: 'https://buildkite.com/vllm/ci/builds/7',
        created_at: '2026-11-01T00:00:00Z',
      },
      job({ id: 'a', retried: true, web_url: 'https://buildkite.com/vllm/ci/builds/7#a' }),
      'p',
      { line: 3, snippet: 's', count: 2 },
    );
    expect(record).toEqual({
      build_number: 7,
      branch: 'tanyuqian:main',
      state: 'failed',
      step_label: ':nvidia: V1 Test others',
      pattern: 'p',
      snippet: 's',
      web_url: 'https://buildkite.com/vllm/ci/builds/7',
      job_id: 'a',
      job_url: 'https://buildkite.com/vllm/ci/builds/7#a',
      job_state: 'failed',
      line: 3,
      count: 2,
      retried: true,
      pull_request: '1234',
      created_at: '2026-11-01T00:00:00Z',
    });
  });
});

describe('closestLabels', () => {
  it('ranks labels by shared letter pairs, whatever the case and punctuation', async () => {
    const { closestLabels } = await import('../../src/core/closest.ts');
    const labels = [
      ':nvidia: Entrypoints Test',
      ':nvidia: V1 Test others',
      'v1 test OTHERS (CPU)',
      ':docker: build image',
      'Basic Models Test',
    ];
    expect(closestLabels('v1 test otters', labels, 2)).toEqual(['v1 test OTHERS (CPU)', ':nvidia: V1 Test others']);
    expect(closestLabels('docker', labels, 1)).toEqual([':docker: build image']);
    expect(closestLabels('x', [], 3)).toEqual([]);
  });
});

describe('keepJobs', () => {
  it('keeps the given jobs and the attempts their retry chains lead to, nothing else', async () => {
    const { keepJobs } = await import('../../src/core/select.ts');
    const build: BuildkiteBuild = {
      number: 3,
      jobs: [
        job({ id: 'a1', retried: true, retried_in_job_id: 'a2' }),
        job({ id: 'a2', retried: true, retried_in_job_id: 'a3' }),
        job({ id: 'a3', state: 'passed' }),
        job({ id: 'b', name: 'Entrypoints Test' }),
        job({ id: 'c' }),
      ],
    };
    const jobs = build.jobs!;
    expect(keepJobs(build, [jobs[0]!, jobs[4]!]).jobs!.map((j) => j.id)).toEqual(['a1', 'a2', 'a3', 'c']);
    expect(keepJobs(build, jobs)).toBe(build);
    expect(keepJobs(build, []).jobs).toEqual([]);
  });
});
