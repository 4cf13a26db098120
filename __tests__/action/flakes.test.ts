// The bundled action's flakes against the simulator's verdict scenarios: the `flakes` and
// `flaky-count` outputs equal the oracle's, and the sticky comment on a scenario PR leads with
// what hit that PR, the wider list collapsed; a PR with no builds gets no comment.
// Build first: npm run bundle && npm run node24.

import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Flake } from '../../src/core/flakes.ts';
import {
  expectedFlakes,
  expectedMatches,
  SCENARIO_QUERY,
  startSimulator,
  VERDICT_SCENARIOS,
  type Simulator,
} from '../../src/simulator/index.ts';
import { startGitHubStub, type GitHubStub } from '../support/github-stub.ts';
import {
  pullRequestEvent,
  requireBuiltAction,
  runAction,
  type ActionEvent,
  type ActionResult,
} from '../support/run-action.ts';

const OWNER = 'acme';
const REPO = 'widgets';
const WRITE_TOKEN = 'ghs_write_token_flakes';

let sim: Simulator;
let github: GitHubStub;
let work: string;

beforeAll(async () => {
  requireBuiltAction();
  sim = await startSimulator({ seed: 3, logLines: [20, 80] });
  github = await startGitHubStub({ owner: OWNER, repo: REPO, tokens: { [WRITE_TOKEN]: 'write' } });
  work = mkdtempSync(join(tmpdir(), 'flake-checker-action-flakes-'));
});
afterAll(async () => {
  await sim?.close();
  await github?.close();
  if (work) rmSync(work, { recursive: true, force: true });
});

// The action's defaults (newest 200 builds, `^pull/|^pr/`, `v1 Test others`) and literal patterns.
const query = SCENARIO_QUERY;
const texts = query.patterns;

let runs = 0;
function scan(event: ActionEvent): Promise<ActionResult> {
  const dir = join(work, `run-${++runs}`);
  mkdirSync(dir, { recursive: true });
  const inputs = { 'buildkite-token': sim.token, 'api-url': sim.url, patterns: texts.join('\n') };
  return runAction({ dir, owner: OWNER, repo: REPO, githubUrl: github.url, githubToken: WRITE_TOKEN, event, inputs });
}

describe('flakes from the bundled action', () => {
  it("outputs the oracle's flakes, and comments on a scenario PR with what hit it first", async () => {
    const expected = expectedFlakes(sim.dataset, query);
    const matches = expectedMatches(sim.dataset, query);
    const shared = expected.find((f) => f.pattern === VERDICT_SCENARIOS.sharedPrs.text);
    // A PR of the scenario whose builds carry pull_request, so its match records name it.
    const pr = shared?.prs.find((p) => matches.some((m) => m.pull_request === p && m.pattern === shared.pattern));
    expect(pr).toBeDefined();

    const result = await scan(pullRequestEvent(OWNER, REPO, Number(pr)));
    expect(result.stderr).toBe('');
    expect(result.status).toBe(0);
    expect(JSON.parse(result.outputs.flakes!) as Flake[]).toEqual(expected);
    expect(result.outputs['flaky-count']).toBe(String(expected.filter((f) => f.verdict === 'flaky').length));
    expect(result.stdout).toContain(`PR #${pr}: comment created`);

    expect(github.on(Number(pr))).toHaveLength(1);
    const body = github.on(Number(pr))[0]!.body;
    const parts = body.split('\n\n');
    expect(parts[0]).toMatch(/^<!-- flake-checker:vllm\/ci\/[0-9a-f]{12} -->$/);
    expect(parts[1]).toMatch(/^## Flake check: /);
    expect(parts[2]).toMatch(new RegExp(`^### This PR \\(\\[#${pr}\\]\\(`));
    // This PR's patterns, in ranked order: a failing attempt of its builds, or any record of them.
    const ours = expected.filter(
      (f) => f.prs.includes(pr!) || matches.some((m) => m.pull_request === pr && m.pattern === f.pattern),
    );
    const items = parts[3]!.split('\n').filter((l) => l.startsWith('- '));
    expect(items.map((item) => texts.find((t) => item.startsWith(`- \`${t}\`: `)))).toEqual(ours.map((f) => f.pattern));
    const sharedItem = items.find((item) => item.includes(shared!.pattern));
    expect(sharedItem).toContain(`**known flake**: seen in ${shared!.prs.length - 1} other PRs`);

    const details = body.indexOf('<details><summary>Every pattern in the scanned window</summary>');
    expect(details).toBeGreaterThan(body.indexOf(parts[3]!));
    for (const flake of expected) expect(body.indexOf(`### \`${flake.pattern}\``)).toBeGreaterThan(details);
    expect(body.indexOf('</details>')).toBeGreaterThan(body.lastIndexOf('### `'));
  });

  it('creates no comment in on-match mode for a PR with no builds', async () => {
    const pr = 4242;
    const named = (b: (typeof sim.dataset.builds)[number]) =>
      (b.pull_request as { id?: string } | null)?.id === String(pr) || b.branch === `pr/${pr}`;
    expect(sim.dataset.builds.some(named)).toBe(false);
    const result = await scan(pullRequestEvent(OWNER, REPO, pr));
    expect(result.status).toBe(0);
    // Other PRs' flakes are there; none is this PR's.
    expect((JSON.parse(result.outputs.flakes!) as Flake[]).length).toBeGreaterThan(0);
    expect(result.stdout).toContain(`PR #${pr}: comment skipped`);
    expect(github.on(pr)).toHaveLength(0);
  });

  it('tells a PR whose builds are all older than the window about them, found by its head branch', async () => {
    // The sharedPrs scenario's PR that has builds only beyond the newest 200.
    const window = new Set(sim.dataset.builds.slice(0, query.maxBuilds).map((b) => b.number));
    const prOf = (b: (typeof sim.dataset.builds)[number]) => (b.pull_request as { id?: string } | null)?.id ?? null;
    const old = sim.dataset.builds.find(
      (b) =>
        !window.has(b.number) &&
        prOf(b) !== null &&
        !sim.dataset.builds.some((o) => window.has(o.number) && prOf(o) === prOf(b)) &&
        b.jobs.some(
          (j) =>
            sim.dataset.logExists(j.id) &&
            [...sim.dataset.cleanLines(j.id)].some((l) => l.includes(VERDICT_SCENARIOS.sharedPrs.text)),
        ),
    );
    expect(old).toBeDefined();
    const pr = Number(prOf(old!));
    const event = pullRequestEvent(OWNER, REPO, pr);
    const pull = (event.payload as { pull_request: { head: Record<string, unknown> } }).pull_request;
    pull.head = { ...pull.head, label: old!.branch, ref: old!.branch.split(':').pop() };
    const result = await scan(event);
    expect(result.status).toBe(0);
    // The window's flakes are unchanged by it: evidence stays the window's.
    expect(JSON.parse(result.outputs.flakes!) as Flake[]).toEqual(expectedFlakes(sim.dataset, query));
    expect(result.stdout).toContain(`PR #${pr}: comment created`);
    const body = github.on(pr)[0]!.body;
    const lead = body.slice(0, body.indexOf('<details>'));
    expect(lead).toContain(`**known flake**: seen in `);
    expect(lead).toContain(`Here: [build ${old!.number}]`);
  });
});
