// The bundled CLI's flakes against the simulator's verdict scenarios: the report file's `flakes`
// equal the oracle's field for field (baseline evidence on, off, and a higher min-prs), --json
// still prints exactly the ground truth's match records, and the text report leads with the
// flakes in ranked order.

import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Flake } from '../../src/core/flakes.ts';
import type { MatchRecord } from '../../src/core/types.ts';
import type { FullReport } from '../../src/report/render-json.ts';
import {
  expectedBaselineCounts,
  expectedFlakes,
  expectedMatches,
  SCENARIO_QUERY,
  startSimulator,
  VERDICT_SCENARIOS,
  type ExpectedFlake,
  type Simulator,
} from '../../src/simulator/index.ts';
import { runCli, type CliResult } from '../support/cli.ts';
import { expectSameMatches } from '../support/matches.ts';

/** Generous rate limits: this file runs several scans against one simulator within a minute. */
const LIMITS = { orgLimit: 100_000, userLimit: 100_000 };
let sim: Simulator;
let dir: string;
const env = () => ({ BK_TOKEN: sim.token, BK_API_URL: sim.url });

beforeAll(async () => {
  sim = await startSimulator({ seed: 1, rateLimit: LIMITS });
  dir = mkdtempSync(join(tmpdir(), 'flake-checker-flakes-'));
});
afterAll(async () => {
  await sim.close();
  rmSync(dir, { recursive: true, force: true });
});

// The CLI's defaults (newest 200 builds, `^pull/|^pr/`, `v1 Test others`) and literal patterns.
const query = SCENARIO_QUERY;
const patternArgs = query.patterns.flatMap((t) => ['--pattern', t]);

let runs = 0;
/** One scan with the scenario texts; its stdout and its report file. */
async function scanScenarios(extra: readonly string[] = []): Promise<{ res: CliResult; report: FullReport }> {
  const file = join(dir, `report-${++runs}.json`);
  const res = await runCli(['--no-cache', '--report-file', file, ...patternArgs, ...extra], env());
  expect(res.stderr).toBe('');
  expect(res.code).toBe(0);
  return { res, report: JSON.parse(readFileSync(file, 'utf8')) as FullReport };
}

/** Each flake's scenario and verdict, in the order given. */
const verdicts = (flakes: readonly ExpectedFlake[]) =>
  flakes.map((f) => [Object.entries(VERDICT_SCENARIOS).find(([, s]) => s.text === f.pattern)?.[0], f.verdict]);

describe('flakes from the bundled CLI', () => {
  it("writes exactly the oracle's flakes and baseline counts to the report file, and prints them first", async () => {
    const { res, report } = await scanScenarios();
    const expected = expectedFlakes(sim.dataset, query);
    // Both types describe the same object.
    expect(report.flakes satisfies readonly ExpectedFlake[]).toEqual(expected satisfies readonly Flake[]);
    const intended = Object.entries(VERDICT_SCENARIOS).map(([id, s]) => [id, s.verdict]);
    expect(verdicts(expected).sort()).toEqual(intended.sort());
    expect(report.baseline_branch).toBe('main');
    expect(report.stats).toMatchObject(expectedBaselineCounts(sim.dataset, query));

    const matches = expectedMatches(sim.dataset, query);
    const found = res.stdout.indexOf(`Found ${matches.length} matching failures:`);
    const heading = 'Flakes (by spread: distinct PRs, then builds):\n';
    expect(res.stdout.startsWith(heading)).toBe(true);
    expect(found).toBeGreaterThan(0);
    const lines = res.stdout
      .slice(heading.length, found)
      .split('\n')
      .filter((l) => l.startsWith('- '));
    expect(lines.map((l) => /^- (\S+) +(.*)$/.exec(l)?.slice(1))).toEqual(expected.map((f) => [f.verdict, f.pattern]));
  });

  it("still prints the ground truth's match records with --json, none from an evidence-only build", async () => {
    const res = await runCli(['--json', '--no-cache', ...patternArgs], env());
    expect(res.code).toBe(0);
    const records = JSON.parse(res.stdout) as MatchRecord[];
    expectSameMatches(records, expectedMatches(sim.dataset, query));
    const window = sim.dataset.builds.slice(0, query.maxBuilds);
    const evidence = new Set(window.filter((b) => b.branch === 'main').map((b) => b.number));
    expect(records.filter((m) => evidence.has(m.build_number))).toEqual([]);
    // There was something to leave out: the failed default-branch attempt of the onMain scenario.
    const onMain = expectedFlakes(sim.dataset, query).find((f) => f.pattern === VERDICT_SCENARIOS.onMain.text);
    expect(onMain?.main_builds).toBe(1);
  });

  it('with --baseline-branch "" reads no evidence: nothing is broken-main', async () => {
    const { report } = await scanScenarios(['--baseline-branch', '']);
    const off = { ...query, baselineBranch: null };
    const expected = expectedFlakes(sim.dataset, off);
    expect(report.flakes).toEqual(expected);
    expect(report.flakes.some((f) => f.verdict === 'broken-main')).toBe(false);
    expect(verdicts(expected)).toContainEqual(['onMain', 'single']);
    expect(report.baseline_branch).toBeNull();
    expect(report.stats).toMatchObject({ baseline_builds: 0, baseline_jobs_selected: 0, baseline_jobs_scanned: 0 });
  });

  it('with --min-prs 5 no longer calls a failure of three PRs flaky', async () => {
    const { report } = await scanScenarios(['--min-prs', '5']);
    const expected = expectedFlakes(sim.dataset, { ...query, minPrs: 5 });
    expect(report.flakes).toEqual(expected);
    expect(verdicts(expected)).toContainEqual(['sharedPrs', 'single']);
    expect(verdicts(expected)).toContainEqual(['retryPassed', 'flaky']);
  });

  it('agrees with the oracle on a baseline branch named by hand, and on hostile data', async () => {
    const named = await scanScenarios(['--baseline-branch', 'releases/v0.11.1']);
    const release = { ...query, baselineBranch: 'releases/v0.11.1' };
    expect(named.report.flakes).toEqual(expectedFlakes(sim.dataset, release));
    expect(named.report.stats).toMatchObject(expectedBaselineCounts(sim.dataset, release));
    expect(named.report.stats.baseline_builds).toBeGreaterThan(0);

    const hostile = await startSimulator({ seed: 1, hostile: true, rateLimit: LIMITS });
    try {
      const file = join(dir, 'hostile.json');
      const res = await runCli(['--no-cache', '--report-file', file, ...patternArgs], {
        BK_TOKEN: hostile.token,
        BK_API_URL: hostile.url,
      });
      expect(res.code).toBe(0);
      const report = JSON.parse(readFileSync(file, 'utf8')) as FullReport;
      expect(report.flakes).toEqual(expectedFlakes(hostile.dataset, query));
      expect(report.stats).toMatchObject(expectedBaselineCounts(hostile.dataset, query));
    } finally {
      await hostile.close();
    }
  });

  it("--tracker-file keeps the flakes' history across runs: quiet runs, resolved, back on a match", async () => {
    const tracker = join(dir, 'tracker.json');
    const single = VERDICT_SCENARIOS.singlePr.text;
    const shared = VERDICT_SCENARIOS.sharedPrs.text;
    const run = async (patterns: string[]) => {
      const file = join(dir, `tracked-${++runs}.json`);
      const args = ['--no-cache', '--json', '--tracker-file', tracker, '--resolve-after', '2', '--report-file', file];
      const res = await runCli([...args, ...patterns.flatMap((p) => ['--pattern', p])], env());
      expect(res.code).toBe(0);
      return { res, tracker: (JSON.parse(readFileSync(file, 'utf8')) as FullReport).tracker! };
    };
    const first = await run([shared, single]);
    expect(first.res.stderr).toBe(`flake-checker: tracker ${tracker}: 2 active, 0 resolved\n`);
    const status = (t: typeof first.tracker) => t.flakes.find((f) => f.pattern === single);
    expect(status(first.tracker)).toMatchObject({ status: 'active', quiet_runs: 0 });
    expect(status((await run([shared])).tracker)).toMatchObject({ status: 'active', quiet_runs: 1 });
    const third = await run([shared]);
    expect(status(third.tracker)).toMatchObject({ status: 'resolved', quiet_runs: 2 });
    expect(third.res.stderr).toBe(`flake-checker: tracker ${tracker}: 1 active, 1 resolved\n`);
    expect(status((await run([shared, single])).tracker)).toMatchObject({ status: 'active', quiet_runs: 0 });
    expect(first.tracker.issue).toBeNull();
  });
});
