import { describe, expect, it } from 'vitest';
import type { MatchRecord, ScanReport } from '../../src/core/types.ts';
import { renderText } from '../../src/report/render-text.ts';

const match = (over: Partial<MatchRecord>): MatchRecord => ({
  build_number: 2334, branch: 'tanyuqian:main', state: 'failed', step_label: ':nvidia: V1 Test others',
  pattern: 'get_num_new_matched_tokens 96', snippet: "At index 2 diff: 'get_num_new_matched_tokens 96' != 'build_connector_meta'",
  web_url: 'https://buildkite.com/vllm/ci/builds/2334', job_id: 'j1', job_url: 'https://buildkite.com/vllm/ci/builds/2334#j1',
  job_state: 'failed', line: 812, count: 1, retried: true, pull_request: '555', created_at: '2026-11-01T00:00:00Z', ...over,
});
const stats = {
  builds_scanned: 200, builds_matched_branch: 120, jobs_selected: 26, jobs_scanned: 25, logs_missing: 1, logs_failed: 0,
  logs_from_cache: 0, bytes_scanned: 1, requests: 28, rate_limited: 0,
};

describe('renderText', () => {
  it('prints the spec report, the pattern summary and the footer', () => {
    const report: ScanReport = {
      matches: [match({}), match({ build_number: 2321, job_id: 'j2', pull_request: '547', retried: false, count: 3, job_url: 'u2', web_url: 'https://buildkite.com/vllm/ci/builds/2321' })],
      stats,
      failures: [],
  warnings: [],
    };
    expect(renderText(report, ['get_num_new_matched_tokens 96', 'unused'])).toBe(
      `Found 2 matching failures:

- #2334 [tanyuqian:main · PR #555] :nvidia: V1 Test others — https://buildkite.com/vllm/ci/builds/2334
  Pattern: get_num_new_matched_tokens 96
  Snippet: At index 2 diff: 'get_num_new_matched_tokens 96' != 'build_connector_meta'
  Job: https://buildkite.com/vllm/ci/builds/2334#j1 (line 812, job failed, retried)

- #2321 [tanyuqian:main · PR #547] :nvidia: V1 Test others — https://buildkite.com/vllm/ci/builds/2321
  Pattern: get_num_new_matched_tokens 96
  Snippet: At index 2 diff: 'get_num_new_matched_tokens 96' != 'build_connector_meta'
  Job: u2 (line 812, 3 lines matched, job failed)

By pattern:
- get_num_new_matched_tokens 96: 2 jobs in 2 builds, 2 PRs, 1 retried attempt (likely flaky)

Scanned 200 builds, 25 jobs, 2 matches found.
(120 builds passed the branch filter, 26 jobs selected, 1 log missing; 28 requests.)
`,
    );
  });

  it('lists logs it could not fetch, and strips terminal control characters from log text', () => {
    const report: ScanReport = {
      matches: [match({ snippet: 'evil \x1b]0;pwned\x07title \x1b[2Jclear\x07\x08', branch: 'x\x1b[31m' })],
      stats: { ...stats, logs_failed: 1 },
      failures: [{ build_number: 9, job_id: 'j9', step_label: 'V1 Test others', job_url: '', reason: 'GET … answered 503' }],
      warnings: [],
    };
    const text = renderText(report, []);
    expect(text).not.toMatch(/[\x00-\x08\x0b-\x1f\x7f]/);
    expect(text).toContain('  Snippet: evil title clear\n');
    expect(text).toContain('Could not fetch 1 log:\n- #9 V1 Test others (j9): GET … answered 503\n');
    expect(text).toContain('1 log could not be fetched');
  });

  it('says so when nothing matched', () => {
    expect(renderText({ matches: [], stats, failures: [], warnings: [] }, ['p'])).toMatch(/^Found 0 matching failures\.\n\nScanned 200 builds, 25 jobs, 0 matches found\.\n/);
  });
});
