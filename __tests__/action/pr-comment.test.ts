// The sticky comment against the local GitHub stand-in, through the real Octokit client.

import { getOctokit } from '@actions/github';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  COMMENT_MAX_CHARS,
  commentMarker,
  createIssueComments,
  describeCommentError,
  syncComment,
  type IssueComments,
} from '../../src/action/pr-comment.ts';
import { renderReport } from '../../src/report/render-markdown.ts';
import { startGitHubStub, type GitHubStub } from '../support/github-stub.ts';

const settings = { org: 'vllm', pipeline: 'ci', step: 'v1 Test others' };
const marker = commentMarker(settings);

let github: GitHubStub;
beforeEach(async () => {
  github = await startGitHubStub({
    owner: 'acme',
    repo: 'widgets',
    tokens: { 'ghs-write': 'write', 'ghs-read': 'read' },
  });
});
afterEach(async () => {
  await github.close();
});

function comments(token: string, issueNumber = 7): IssueComments {
  return createIssueComments(getOctokit(token, { baseUrl: github.url }), {
    owner: 'acme',
    repo: 'widgets',
    issueNumber,
  });
}

describe('commentMarker', () => {
  it('is a hidden HTML comment keyed by org, pipeline and a hash of the step', () => {
    expect(marker).toMatch(/^<!-- flake-checker:vllm\/ci\/[0-9a-f]{12} -->$/);
    expect(commentMarker({ ...settings, step: 'other' })).not.toBe(marker);
    // The step is matched case-insensitively: changing only its case keeps the same comment.
    expect(commentMarker({ ...settings, step: settings.step.toUpperCase() })).toBe(marker);
    expect(commentMarker({ ...settings, step: 'x --> <b>' })).toMatch(
      /^<!-- flake-checker:vllm\/ci\/[0-9a-f]{12} -->$/,
    );
  });
});

describe('syncComment', () => {
  const body = (text: string) => `${marker}\n${text}`;

  it('creates one comment, then updates it in place', async () => {
    const api = comments('ghs-write');
    expect(await syncComment(api, { mode: 'on-match', hasMatches: true, marker, body: body('run 1') })).toBe('created');
    expect(await syncComment(api, { mode: 'on-match', hasMatches: true, marker, body: body('run 2') })).toBe('updated');
    expect(await syncComment(api, { mode: 'on-match', hasMatches: true, marker, body: body('run 2') })).toBe(
      'unchanged',
    );
    expect(github.on(7).map((c) => c.body)).toEqual([body('run 2')]);
  });

  it('finds its comment on a later page, past other comments', async () => {
    for (let i = 0; i < 250; i += 1) github.seed(7, `comment ${i}`);
    const ours = github.seed(7, body('old'), 'github-actions[bot]');
    for (let i = 0; i < 30; i += 1) github.seed(7, `later ${i}`);
    expect(
      await syncComment(comments('ghs-write'), { mode: 'always', hasMatches: false, marker, body: body('new') }),
    ).toBe('updated');
    expect(ours.body).toBe(body('new'));
    expect(github.on(7)).toHaveLength(281);
    const listed = github.requests.filter((r) => r.method === 'GET' && r.path.includes('/comments'));
    expect(listed.map((r) => new URL(r.path, github.url).searchParams.get('page'))).toEqual([null, '2', '3']);
  });

  it("never takes a person's comment carrying the marker for its own", async () => {
    const planted = github.seed(7, body('planted by someone'), 'mallory');
    expect(
      await syncComment(comments('ghs-write'), { mode: 'always', hasMatches: true, marker, body: body('x') }),
    ).toBe('created');
    expect(planted.body).toBe(body('planted by someone'));
    expect(github.on(7)).toHaveLength(2);
  });

  it('does not take a reply quoting the marker for its own comment', async () => {
    github.seed(7, `> ${marker}\n> quoted`);
    expect(
      await syncComment(comments('ghs-write'), { mode: 'always', hasMatches: true, marker, body: body('x') }),
    ).toBe('created');
    expect(github.on(7)).toHaveLength(2);
  });

  it('keeps comments of other steps and other PRs apart', async () => {
    const otherMarker = commentMarker({ ...settings, step: 'other step' });
    github.seed(7, `${otherMarker}\nother step`, 'github-actions[bot]');
    await syncComment(comments('ghs-write'), { mode: 'always', hasMatches: true, marker, body: body('x') });
    await syncComment(comments('ghs-write', 8), { mode: 'always', hasMatches: true, marker, body: body('y') });
    expect(github.on(7)).toHaveLength(2);
    expect(github.on(8)).toHaveLength(1);
  });

  it('in on-match mode, creates nothing without matches but updates an existing comment', async () => {
    const api = comments('ghs-write');
    expect(await syncComment(api, { mode: 'on-match', hasMatches: false, marker, body: body('none') })).toBe('skipped');
    expect(github.on(7)).toHaveLength(0);
    await syncComment(api, { mode: 'on-match', hasMatches: true, marker, body: body('some') });
    expect(await syncComment(api, { mode: 'on-match', hasMatches: false, marker, body: body('gone') })).toBe('updated');
    expect(github.on(7).map((c) => c.body)).toEqual([body('gone')]);
  });

  it('does nothing at all when off', async () => {
    expect(await syncComment(comments('ghs-write'), { mode: 'off', hasMatches: true, marker, body: body('x') })).toBe(
      'skipped',
    );
    expect(github.requests).toHaveLength(0);
  });

  it('refuses a body without its marker', async () => {
    await expect(
      syncComment(comments('ghs-write'), { mode: 'always', hasMatches: true, marker, body: 'no marker' }),
    ).rejects.toThrow('marker');
  });

  it('posts a report cut for the comment limit, which GitHub would refuse uncut', async () => {
    const matches = Array.from({ length: 3000 }, (_, i) => ({
      build_number: 9000 - i,
      branch: `user:branch-${i}`,
      state: 'failed',
      step_label: 'V1 Test others',
      pattern: 'FAILED',
      snippet: `FAILED tests/test_${i}.py::test_case - AssertionError: ${'x'.repeat(120)}`,
      web_url: `https://buildkite.com/vllm/ci/builds/${9000 - i}`,
      job_id: `job-${i}`,
      job_url: `https://buildkite.com/vllm/ci/builds/${9000 - i}#job-${i}`,
      job_state: 'failed',
      line: 10,
      count: 1,
      retried: false,
      pull_request: null,
      created_at: '2026-08-01T00:00:00Z',
    }));
    const stats = {
      builds_scanned: 3000,
      builds_matched_branch: 3000,
      jobs_selected: 3000,
      jobs_scanned: 3000,
      logs_missing: 0,
      logs_failed: 0,
      logs_from_cache: 0,
      bytes_scanned: 0,
      requests: 0,
      rate_limited: 0,
      window_start: '',
      window_end: '',
      baseline_builds: 0,
      baseline_jobs_selected: 0,
      baseline_jobs_scanned: 0,
      baseline_logs_failed: 0,
    };
    const report = {
      matches,
      stats,
      failures: [],
      missing: [],
      pullRequestMatches: [],
      discovered: [],
      clusters: [],
      warnings: [],
      flakes: [],
      baselineBranch: null,
      repository: null,
    };
    const shown = { ...settings, branchRegex: '.*', maxBuilds: 3000, patterns: ['FAILED'], regex: false };
    const render = (maxBytes: number) =>
      renderReport(report, shown, { maxBytes, prefix: marker, fullReportHint: 'the job summary' });

    const uncut = render(10 * 1024 * 1024);
    expect(uncut.length).toBeGreaterThan(COMMENT_MAX_CHARS);
    const refused: unknown = await comments('ghs-write')
      .create(uncut)
      .catch((e: unknown) => e);
    expect(describeCommentError(refused)).toMatch(/^HTTP 422/);

    const body = render(COMMENT_MAX_CHARS - 512);
    expect(await syncComment(comments('ghs-write'), { mode: 'always', hasMatches: true, marker, body })).toBe(
      'created',
    );
    expect(github.on(7)[0]!.body).toContain('Cut to stay under');
  });

  it('surfaces a read-only token as a 403 with a hint', async () => {
    const error: unknown = await syncComment(comments('ghs-read'), {
      mode: 'always',
      hasMatches: true,
      marker,
      body: body('x'),
    }).catch((e: unknown) => e);
    expect(describeCommentError(error)).toMatch(
      /^HTTP 403: Resource not accessible by integration.*pull-requests: write/,
    );
    expect(github.on(7)).toHaveLength(0);
  });
});
