// The tracker issue against the local GitHub stand-in, through the real Octokit client with its
// retry and throttling plugins: scheduled runs over a moving window, runs that race, GitHub
// failing mid-run, and a token that may not write issues.

import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Flake } from '../../src/core/flakes.ts';
import { createGitHubClient, GitHubApiError } from '../../src/action/github-client.ts';
import {
  createTrackerIssues,
  syncTrackerIssue,
  trackerTitle,
  type TrackerResult,
} from '../../src/action/tracker-issue.ts';
import { parseBody } from '../../src/tracker/render.ts';
import type { TrackerRun, TrackerState } from '../../src/tracker/state.ts';
import { startGitHubStub, type GitHubStub, type StubFault, type StubRoute } from '../support/github-stub.ts';

const OWNER = 'acme';
const REPO = 'widgets';
const settings = { org: 'vllm', pipeline: 'ci', step: 'V1 Test others' };
const LABEL = 'flaky-test';

/** Build n: created n hours after July 1, from PR 700 + n % 5. */
const createdAt = (n: number) => new Date(Date.UTC(2026, 6, 1) + n * 3_600_000).toISOString();

/** Which builds each pattern matches, over the whole history the windows move along. */
const HISTORY: Record<string, (n: number) => boolean> = {
  'FAILED tests/test_x.py': (n) => n % 3 === 0,
  'Timed out': (n) => n === 2 || n === 4 || n === 23,
};

/** Scheduled run r (0-based) scans builds 1+5r..10+5r: each window shares half the one before. */
function scheduledRun(r: number, resolveAfter = 2): TrackerRun {
  const from = 1 + 5 * r;
  const to = 10 + 5 * r;
  const flakes: Flake[] = [];
  const matches: TrackerRun['matches'][number][] = [];
  for (const [pattern, hit] of Object.entries(HISTORY)) {
    const builds = Array.from({ length: to - from + 1 }, (_, i) => from + i).filter(hit);
    if (builds.length === 0) continue;
    flakes.push({
      pattern,
      verdict: 'flaky',
      reason: 'seen in several PRs',
      prs: [...new Set(builds.map((n) => String(700 + (n % 5))))].sort(),
      builds: builds.length,
      jobs: builds.length,
      passed_on_retry: 0,
      main_builds: 0,
      first_seen: createdAt(builds[0]!),
      last_seen: createdAt(builds[builds.length - 1]!),
      first_build: builds[0]!,
      last_build: builds[builds.length - 1]!,
    });
    const url = (n: number) => `https://buildkite.com/vllm/ci/builds/${n}`;
    for (const n of builds) matches.push({ build_number: n, web_url: url(n), pattern });
  }
  return { flakes, matches, runAt: createdAt(to + 1), resolveAfter };
}

let github: GitHubStub;
beforeEach(async () => {
  github = await startGitHubStub({
    owner: OWNER,
    repo: REPO,
    tokens: { 'ghs-write': 'write', 'ghs-read': 'read', 'ghp-pat': 'write' },
    logins: { 'ghp-pat': 'flake-bot' },
  });
});
afterEach(async () => {
  await github.close();
});

function sync(run: TrackerRun, token = 'ghs-write', stub = github): Promise<TrackerResult> {
  // secondMs 1: every wait GitHub asks for lasts a thousandth of it.
  const octokit = createGitHubClient(token, { baseUrl: stub.url, secondMs: 1 });
  const issues = createTrackerIssues(octokit, { owner: OWNER, repo: REPO });
  return syncTrackerIssue(issues, { settings, label: LABEL, title: null, run });
}

function savedState(issue = 900): TrackerState {
  const state = parseBody(github.issues.find((i) => i.number === issue)!.body).state;
  if (!state) throw new Error(`issue ${issue} holds no state`);
  return state;
}

const entry = (state: TrackerState, key: string) => state.flakes.find((f) => f.key === key)!;

describe('syncTrackerIssue', () => {
  it('keeps one issue over four runs: earliest first_seen, quiet flakes resolved and back, text kept', async () => {
    const first = await sync(scheduledRun(0));
    expect(first).toMatchObject({ issue: 900, outcome: 'created', closedDuplicates: [], problem: null });
    const issue = github.issues[0]!;
    expect(issue).toMatchObject({ title: 'Flaky tests: vllm/ci — V1 Test others', labels: [LABEL] });
    expect(issue.user).toBe('github-actions[bot]');
    // A person adds notes around the block.
    issue.body = `Owner: @ci-team\r\n\r\n${issue.body}\n\nWorkaround: rerun the job.`;

    const timedOut: string[] = [];
    for (let r = 1; r < 4; r++) {
      const result = await sync(scheduledRun(r));
      expect(result).toMatchObject({ issue: 900, outcome: 'updated', closedDuplicates: [] });
      const flake = entry(savedState(), 'Timed out');
      timedOut.push(`${flake.status}:${flake.quiet_runs}`);
      if (r === 2) expect(issue.body.slice(issue.body.indexOf('## Resolved'))).toContain('`Timed out`');
    }
    // Matched in run 0, quiet in runs 1 and 2 (resolved after resolve-after = 2), matched again in run 3.
    expect(timedOut).toEqual(['active:1', 'resolved:2', 'active:0']);

    expect(github.issues).toHaveLength(1);
    const state = savedState();
    const failed = entry(state, 'FAILED tests/test_x.py');
    // The last window is builds 16..25; build 3 was seen in the first.
    expect(failed.first_seen).toBe(createdAt(3));
    expect(failed.builds_seen).toBe(8);
    const timedOutNow = entry(state, 'Timed out');
    expect(timedOutNow).toMatchObject({ builds_seen: 3, first_seen: createdAt(2), active_since: createdAt(23) });
    expect(issue.body.startsWith('Owner: @ci-team\r\n\r\n<!-- flake-checker:tracker:begin vllm/ci/')).toBe(true);
    expect(issue.body.endsWith('<!-- flake-checker:tracker:end -->\n\nWorkaround: rerun the job.')).toBe(true);
  });

  it('leaves the issue alone when the run changes nothing', async () => {
    await sync(scheduledRun(0));
    const writes = () => github.requests.filter((r) => r.method === 'PATCH').length;
    expect(await sync(scheduledRun(0))).toMatchObject({ issue: 900, outcome: 'unchanged' });
    expect(writes()).toBe(0);
  });

  it('ends two racing first runs with one open issue, the other closed with a link to it', async () => {
    // Both runs list the issues before either creates one.
    github.hold({ method: 'GET', path: /\/issues$/ }, 2);
    const results = await Promise.all([sync(scheduledRun(0)), sync(scheduledRun(0))]);

    expect(results.map((r) => r.issue)).toEqual([900, 900]);
    expect(results.map((r) => r.outcome).sort()).toEqual(['created', 'unchanged']);
    expect(results.flatMap((r) => r.closedDuplicates)).toEqual([901]);
    expect(github.issues.map((i) => [i.number, i.state, i.state_reason])).toEqual([
      [900, 'open', null],
      [901, 'closed', 'duplicate'],
    ]);
    expect(github.on(901)).toHaveLength(1);
    expect(github.on(901)[0]!.body).toMatch(/^Closed as a duplicate of #900: /);
    // The next run finds the one open issue.
    expect(await sync(scheduledRun(1))).toMatchObject({ issue: 900, outcome: 'updated', closedDuplicates: [] });
  });

  it('closes the later of two trackers it finds open, and updates the oldest', async () => {
    await sync(scheduledRun(0));
    github.seedIssue({ title: 'dup', body: github.issues[0]!.body, user: 'github-actions[bot]', labels: [LABEL] });
    const result = await sync(scheduledRun(1));
    expect(result).toMatchObject({ issue: 900, outcome: 'updated', closedDuplicates: [901] });
    expect(github.issues.map((i) => i.state)).toEqual(['open', 'closed']);
  });

  it('closes the duplicate a retried create made when GitHub lost its answer', async () => {
    github.fault({ method: 'POST', path: /\/issues$/ }, { kind: 'lost' });
    const result = await sync(scheduledRun(0));
    expect(result).toMatchObject({ issue: 900, closedDuplicates: [901] });
    expect(github.issues.filter((i) => i.state === 'open').map((i) => i.number)).toEqual([900]);
  });

  it('gives the same result when GitHub answers 5xx, drops connections and rate-limits during the runs', async () => {
    const clean = await startGitHubStub({ owner: OWNER, repo: REPO, tokens: { 'ghs-write': 'write' } });
    const reads: [StubRoute, StubFault, number][] = [
      [{ method: 'GET', path: /\/issues$/ }, { kind: 'status', status: 502 }, 2],
      [{ method: 'GET' }, { kind: 'network' }, 1],
      [{ method: 'GET', path: /\/issues$/ }, { kind: 'primary', status: 403 }, 1],
    ];
    // The first run creates the issue, the others edit it: each meets every fault once.
    const create: [StubRoute, StubFault, number][] = [
      [{ method: 'POST', path: /\/issues$/ }, { kind: 'secondary', retryAfter: 1 }, 1],
    ];
    const edit: [StubRoute, StubFault, number][] = [
      [{ method: 'PATCH' }, { kind: 'status', status: 503 }, 1],
      [{ method: 'PATCH' }, { kind: 'primary', status: 429 }, 1],
      [{ method: 'PATCH' }, { kind: 'secondary', retryAfter: 2 }, 1],
    ];
    let injected = 0;
    try {
      for (let r = 0; r < 4; r++) {
        const faults = [...reads, ...(r === 0 ? create : edit)];
        for (const [route, fault, times] of faults) github.fault(route, fault, times);
        injected += faults.reduce((sum, [, , times]) => sum + times, 0);
        const [faulty, expected] = [await sync(scheduledRun(r)), await sync(scheduledRun(r), 'ghs-write', clean)];
        expect(faulty).toEqual(expected);
      }
      expect(github.issues).toEqual(clean.issues);
      // Every fault was met and answered by a retry.
      expect(github.requests.length).toBe(clean.requests.length + injected);
    } finally {
      await clean.close();
    }
  });

  it('reports a state it cannot read, rebuilds it from the run, and keeps the text around it', async () => {
    await sync(scheduledRun(0));
    const issue = github.issues[0]!;
    issue.body = `Notes.\n\n${issue.body.replace('"builds_seen":', '"builds_seen":x')}`;
    const result = await sync(scheduledRun(1));
    expect(result.problem).toMatch(/^the saved state is not valid JSON/);
    expect(result.outcome).toBe('updated');
    expect(issue.body.startsWith('Notes.\n\n<!-- flake-checker:tracker:begin')).toBe(true);
    expect(issue.body).toContain('> [!WARNING]');
    // Built from run 1's window (builds 6..15) alone.
    expect(entry(savedState(), 'FAILED tests/test_x.py')).toMatchObject({ builds_seen: 4, first_seen: createdAt(6) });
    // Once rebuilt, the warning goes.
    await sync(scheduledRun(2));
    expect(issue.body).not.toContain('> [!WARNING]');
  });

  it("never takes someone else's issue, a pull request, an unlabelled or a closed issue for its tracker", async () => {
    await sync(scheduledRun(0));
    const body = github.issues[0]!.body;
    github.issues[0]!.state = 'closed';
    const planted = [
      github.seedIssue({ body, user: 'mallory', labels: [LABEL] }),
      github.seedIssue({ body, user: 'dependabot[bot]', labels: [LABEL], pullRequest: true }),
      github.seedIssue({ body, user: 'github-actions[bot]', labels: [] }),
    ];
    const result = await sync(scheduledRun(1));
    expect(result).toMatchObject({ issue: 904, outcome: 'created', closedDuplicates: [] });
    for (const issue of planted) expect(issue).toMatchObject({ body, state: 'open' });
  });

  it("trusts only the token's own account when GitHub tells who it is", async () => {
    await sync(scheduledRun(0));
    // A bot's issue is not ours when the token is a person's.
    const result = await sync(scheduledRun(1), 'ghp-pat');
    expect(result).toMatchObject({ issue: 901, outcome: 'created' });
    expect(github.issues[1]!.user).toBe('flake-bot');
    expect(await sync(scheduledRun(2), 'ghp-pat')).toMatchObject({ issue: 901, outcome: 'updated' });
  });

  it('does not retry a token that may not write issues, and says what to grant', async () => {
    const error: unknown = await sync(scheduledRun(0), 'ghs-read').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(GitHubApiError);
    expect((error as GitHubApiError).status).toBe(403);
    expect((error as Error).message).toMatch(
      /^GitHub answered HTTP 403 to POST http:\S+\/issues: Resource not accessible by integration\. .*`issues: write`/,
    );
    expect(github.requests.filter((r) => r.method === 'POST')).toHaveLength(1);
    expect(github.issues).toHaveLength(0);

    // The same on an update.
    await sync(scheduledRun(0));
    await expect(sync(scheduledRun(1), 'ghs-read')).rejects.toThrow(/HTTP 403 to PATCH .*`issues: write`/);
    expect(github.requests.filter((r) => r.method === 'PATCH')).toHaveLength(1);
  });
});

describe('trackerTitle', () => {
  it('fills in the template, on one line, within GitHub limit', () => {
    expect(trackerTitle(null, settings)).toBe('Flaky tests: vllm/ci — V1 Test others');
    expect(trackerTitle('{pipeline}: {step} ({org}) {other}', settings)).toBe('ci: V1 Test others (vllm) {other}');
    expect(trackerTitle('Flakes', { ...settings, step: 'a\nb' })).toBe('Flakes');
    expect(trackerTitle('{step}', { ...settings, step: 'line\none\x1b[31m' })).toBe('line one');
    expect(trackerTitle('{step}', { ...settings, step: 'x'.repeat(400) })).toHaveLength(256);
  });
});
