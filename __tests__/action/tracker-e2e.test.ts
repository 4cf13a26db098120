// The tracker issue through the bundled action (Node 24) against the simulator and the GitHub
// stand-in: scheduled runs keep one issue, a quiet flake is resolved only after resolve-after
// quiet runs and comes back on its next match, a person's text outside the block stays, and
// GitHub's 5xx and secondary rate limits on the way change nothing. Build first: npm run bundle.

import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SCENARIO_QUERY, startSimulator, VERDICT_SCENARIOS, type Simulator } from '../../src/simulator/index.ts';
import { startGitHubStub, type GitHubStub } from '../support/github-stub.ts';
import { requireBuiltAction, runAction, type ActionResult } from '../support/run-action.ts';

const OWNER = 'acme';
const REPO = 'widgets';
const TOKEN = 'ghs_tracker_e2e';
const schedule = { name: 'schedule', payload: { schedule: '0 6 * * *' } };

let sim: Simulator;
let github: GitHubStub;
let work: string;

beforeAll(async () => {
  requireBuiltAction();
  // Generous rate limits: five scans in a row must not wait for a window.
  sim = await startSimulator({ seed: 3, logLines: [20, 80], rateLimit: { orgLimit: 100_000, userLimit: 100_000 } });
  github = await startGitHubStub({ owner: OWNER, repo: REPO, tokens: { [TOKEN]: 'write' } });
  work = mkdtempSync(join(tmpdir(), 'flake-checker-tracker-e2e-'));
});
afterAll(async () => {
  await sim?.close();
  await github?.close();
  if (work) rmSync(work, { recursive: true, force: true });
});

let runs = 0;
function scheduled(patterns: readonly string[], env: Record<string, string> = {}): Promise<ActionResult> {
  const dir = join(work, `run-${++runs}`);
  mkdirSync(dir, { recursive: true });
  const inputs = {
    'buildkite-token': sim.token,
    'api-url': sim.url,
    patterns: patterns.join('\n'),
    tracker: 'true',
    'resolve-after': '2',
  };
  return runAction({
    dir,
    owner: OWNER,
    repo: REPO,
    githubUrl: github.url,
    githubToken: TOKEN,
    event: schedule,
    inputs,
    env: { FLAKE_CHECKER_GITHUB_RETRY_MS: '0', ...env },
  });
}

const trackerOf = (result: ActionResult) =>
  (
    JSON.parse(result.report) as {
      tracker: { issue: number; flakes: { pattern: string; status: string; quiet_runs: number; first_seen: string }[] };
    }
  ).tracker;

describe('the tracker issue from the bundled action', () => {
  it('keeps one issue across scheduled runs, resolves a quiet flake after resolve-after runs, and survives GitHub faults', async () => {
    const shared = VERDICT_SCENARIOS.sharedPrs.text;
    const single = VERDICT_SCENARIOS.singlePr.text;
    expect(SCENARIO_QUERY.patterns).toContain(shared);

    const first = await scheduled([shared, single]);
    expect(first.status).toBe(0);
    const issue = Number(first.outputs['tracker-issue']);
    expect(issue).toBeGreaterThan(0);
    expect(first.stdout).toContain(`Tracker: issue #${issue} created`);
    expect(first.summary).toContain(`Tracker issue #${issue} created with this run's flakes.`);
    expect(trackerOf(first)).toMatchObject({
      issue,
      flakes: expect.arrayContaining([expect.objectContaining({ pattern: single, status: 'active', quiet_runs: 0 })]),
    });
    const firstSeen = trackerOf(first).flakes.find((f) => f.pattern === shared)!.first_seen;

    // A person adds a note above the managed block.
    const stub = github.issues.find((i) => i.number === issue)!;
    stub.body = `Owner: @ci-team\n\n${stub.body}`;

    // Two runs without the single-PR pattern, with GitHub failing and rate limiting on the way.
    github.fault({ method: 'PATCH' }, { kind: 'status', status: 502 }, 1);
    github.fault({ method: 'GET' }, { kind: 'secondary' }, 1);
    const second = await scheduled([shared]);
    expect(second.status).toBe(0);
    expect(second.stdout).not.toContain('::warning::Could not update the tracker issue');
    expect(trackerOf(second).flakes.find((f) => f.pattern === single)).toMatchObject({
      status: 'active',
      quiet_runs: 1,
    });
    const third = await scheduled([shared]);
    expect(trackerOf(third).flakes.find((f) => f.pattern === single)).toMatchObject({
      status: 'resolved',
      quiet_runs: 2,
    });
    // Back on its next match.
    const fourth = await scheduled([shared, single]);
    expect(trackerOf(fourth).flakes.find((f) => f.pattern === single)).toMatchObject({
      status: 'active',
      quiet_runs: 0,
    });
    expect(trackerOf(fourth).flakes.find((f) => f.pattern === shared)!.first_seen).toBe(firstSeen);

    for (const run of [second, third, fourth]) expect(Number(run.outputs['tracker-issue'])).toBe(issue);
    const open = github.issues.filter((i) => i.state === 'open' && !i.pullRequest);
    expect(open.map((i) => i.number)).toEqual([issue]);
    expect(open[0]!.labels).toContain('flaky-test');
    expect(open[0]!.body.startsWith('Owner: @ci-team\n\n')).toBe(true);
  });

  it('warns and still writes the summary and outputs when the token may not write issues', async () => {
    const readOnly = await startGitHubStub({ owner: OWNER, repo: REPO, tokens: { [TOKEN]: 'read' } });
    try {
      const dir = join(work, `run-${++runs}`);
      mkdirSync(dir, { recursive: true });
      const inputs = {
        'buildkite-token': sim.token,
        'api-url': sim.url,
        patterns: VERDICT_SCENARIOS.sharedPrs.text,
        tracker: 'true',
      };
      const result = await runAction({
        dir,
        owner: OWNER,
        repo: REPO,
        githubUrl: readOnly.url,
        githubToken: TOKEN,
        event: schedule,
        inputs,
        env: { FLAKE_CHECKER_GITHUB_RETRY_MS: '0' },
      });
      expect(result.status).toBe(0);
      expect(result.stdout).toMatch(/^::warning::Could not update the tracker issue: GitHub answered HTTP 403/m);
      expect(result.stdout).toContain('issues: write');
      expect(result.outputs['tracker-issue']).toBe('');
      expect(Number(result.outputs['match-count'])).toBeGreaterThan(0);
      expect(JSON.parse(result.report)).toMatchObject({ tracker: null });
    } finally {
      await readOnly.close();
    }
  });
});
