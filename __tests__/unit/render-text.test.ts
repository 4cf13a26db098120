import { describe, expect, it } from 'vitest';
import type { Flake } from '../../src/core/flakes.ts';
import type { MatchRecord, ScanReport } from '../../src/core/types.ts';
import { renderText } from '../../src/report/render-text.ts';

const match = (over: Partial<MatchRecord>): MatchRecord => ({
  build_number: 2334,
  branch: 'tanyuqian:main',
  state: 'failed',
  step_label: ':nvidia: V1 Test others',
  pattern: 'get_num_new_matched_tokens 96',
  snippet: "At index 2 diff: 'get_num_new_matched_tokens 96' != 'build_connector_meta'",
  web_url: 'https://buildkite.com/vllm/ci/builds/2334',
  job_id: 'j1',
  job_url: 'https://buildkite.com/vllm/ci/builds/2334#j1',
  job_state: 'failed',
  line: 812,
  count: 1,
  retried: true,
  pull_request: '555',
  created_at: '2026-11-01T00:00:00Z',
  ...over,
});
const stats = {
  builds_scanned: 200,
  builds_matched_branch: 120,
  jobs_selected: 26,
  jobs_scanned: 25,
  logs_missing: 1,
  logs_failed: 0,
  logs_from_cache: 0,
  bytes_scanned: 1,
  requests: 28,
  rate_limited: 0,
  window_start: '2026-10-30T00:00:00.000Z',
  window_end: '2026-11-02T00:00:00.000Z',
  baseline_builds: 30,
  baseline_jobs_selected: 4,
  baseline_jobs_scanned: 4,
  baseline_logs_failed: 0,
};
const flake: Flake = {
  pattern: 'get_num_new_matched_tokens 96',
  verdict: 'flaky',
  reason: 'seen in 2 PRs and on main 0 times; passed on retry 1 time',
  prs: ['547', '555'],
  builds: 2,
  jobs: 2,
  passed_on_retry: 1,
  main_builds: 0,
  first_seen: '2026-10-31T08:00:00.000Z',
  last_seen: '2026-11-01T00:00:00.000Z',
  first_build: 2321,
  last_build: 2334,
};
const base = {
  flakes: [],
  missing: [],
  pullRequestMatches: [],
  discovered: [],
  clusters: [],
  baselineBranch: 'main',
  repository: null,
};

describe('renderText', () => {
  it('prints the flakes, the match report and the footer', () => {
    const report: ScanReport = {
      ...base,
      flakes: [flake],
      matches: [
        match({}),
        match({
          build_number: 2321,
          job_id: 'j2',
          pull_request: '547',
          retried: false,
          count: 3,
          job_url: 'u2',
          web_url: 'https://buildkite.com/vllm/ci/builds/2321',
        }),
      ],
      stats,
      failures: [],
      warnings: [],
    };
    expect(renderText(report)).toBe(
      `Flakes (by spread: distinct PRs, then builds):
- flaky  get_num_new_matched_tokens 96
  seen in 2 PRs and on main 0 times; passed on retry 1 time (PRs #547, #555); 2 builds, 2 jobs; first seen 2026-10-31 (#2321), last seen 2026-11-01 (#2334)

Found 2 matching failures:

- #2334 [tanyuqian:main · PR #555] :nvidia: V1 Test others — https://buildkite.com/vllm/ci/builds/2334
  Pattern: get_num_new_matched_tokens 96
  Snippet: At index 2 diff: 'get_num_new_matched_tokens 96' != 'build_connector_meta'
  Job: https://buildkite.com/vllm/ci/builds/2334#j1 (line 812, job failed, retried)

- #2321 [tanyuqian:main · PR #547] :nvidia: V1 Test others — https://buildkite.com/vllm/ci/builds/2321
  Pattern: get_num_new_matched_tokens 96
  Snippet: At index 2 diff: 'get_num_new_matched_tokens 96' != 'build_connector_meta'
  Job: u2 (line 812, 3 lines matched, job failed)

Scanned 200 builds, 25 jobs, 2 matches found.
(120 builds passed the branch filter, 26 jobs selected, 1 log missing, evidence from main: 4 failed logs of 30 builds outside the branch filter; 28 requests.)
`,
    );
  });

  it('lists logs it could not fetch, and strips terminal control characters from log text', () => {
    const report: ScanReport = {
      ...base,
      matches: [match({ snippet: 'evil \x1b]0;pwned\x07title \x1b[2Jclear\x07\x08', branch: 'x\x1b[31m' })],
      stats: { ...stats, logs_failed: 1 },
      failures: [
        { build_number: 9, job_id: 'j9', step_label: 'V1 Test others', job_url: '', reason: 'GET … answered 503' },
      ],
      warnings: [],
    };
    const text = renderText(report);
    expect(text).not.toMatch(/[\x00-\x08\x0b-\x1f\x7f]/);
    expect(text).toContain('  Snippet: evil title clear\n');
    expect(text).toContain('Could not fetch 1 log:\n- #9 V1 Test others (j9): GET … answered 503\n');
    expect(text).toContain('1 log could not be fetched');
  });

  it('says so when nothing matched', () => {
    expect(renderText({ ...base, baselineBranch: null, matches: [], stats, failures: [], warnings: [] })).toBe(
      'Found 0 matching failures.\n\nScanned 200 builds, 25 jobs, 0 matches found.\n' +
        '(120 builds passed the branch filter, 26 jobs selected, 1 log missing; 28 requests.)\n',
    );
  });
});
