// The verdict scenarios planted in the default dataset (VERDICT_SCENARIOS): under the default
// query the oracle gives each the verdict and the evidence its construction intends, whatever the
// seed; the decoy in another step and the builds beyond the window do not count; and the baseline
// counts agree with the builds they count.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  DECOY_STEP_LABEL,
  expectedBaselineCounts,
  expectedCounts,
  expectedFlakes,
  SCENARIO_QUERY,
  SCENARIO_WINDOW,
  startSimulator,
  VERDICT_SCENARIOS,
  type Dataset,
  type ExpectedFlake,
  type SimBuild,
  type SimJob,
  type Simulator,
  type VerdictScenarioId,
} from '../../src/simulator/index.ts';

const SCENARIOS = Object.entries(VERDICT_SCENARIOS) as [VerdictScenarioId, { text: string; verdict: string }][];

const query = SCENARIO_QUERY;

/** The flake of one scenario's text. */
function flakeOf(flakes: readonly ExpectedFlake[], id: VerdictScenarioId): ExpectedFlake {
  const flake = flakes.find((f) => f.pattern === VERDICT_SCENARIOS[id].text);
  if (!flake) throw new Error(`no flake for ${id}`);
  return flake;
}

/** Every attempt whose clean log holds `text`, with its build's index (0 is the newest). */
function attemptsWith(dataset: Dataset, text: string): { index: number; build: SimBuild; job: SimJob }[] {
  return dataset.builds.flatMap((build, index) =>
    build.jobs
      .filter((job) => /v1 test/i.test(job.name ?? '') && [...dataset.cleanLines(job.id)].some((l) => l.includes(text)))
      .map((job) => ({ index, build, job })),
  );
}

describe.each([1, 3, 7])('the default dataset of seed %i', (seed) => {
  let sim: Simulator;
  let flakes: ExpectedFlake[];
  beforeAll(async () => {
    sim = await startSimulator({ seed });
    flakes = expectedFlakes(sim.dataset, query);
  });
  afterAll(() => sim.close());

  it('gives each scenario its verdict under the default query, ranked by spread', () => {
    expect(flakes.map((f) => f.pattern).sort()).toEqual(query.patterns.slice().sort());
    for (const [id, scenario] of SCENARIOS) expect(flakeOf(flakes, id).verdict, id).toBe(scenario.verdict);
    for (let i = 1; i < flakes.length; i++) {
      const [a, b] = [flakes[i - 1] as ExpectedFlake, flakes[i] as ExpectedFlake];
      expect(a.prs.length > b.prs.length || (a.prs.length === b.prs.length && a.builds >= b.builds)).toBe(true);
    }
    const oldest = sim.dataset.builds[SCENARIO_WINDOW - 1]?.number as number;
    expect(flakes.every((f) => f.first_build >= oldest)).toBe(true);
  });

  it('gathers the evidence each scenario was planted with', () => {
    const none = { passed_on_retry: 0, main_builds: 0 };
    expect(flakeOf(flakes, 'sharedPrs')).toMatchObject({ builds: 4, jobs: 4, ...none });
    expect(flakeOf(flakes, 'sharedPrs').prs).toHaveLength(3);
    expect(flakeOf(flakes, 'singlePr')).toMatchObject({ builds: 2, jobs: 2, ...none });
    expect(flakeOf(flakes, 'onMain')).toMatchObject({ builds: 2, jobs: 2, passed_on_retry: 0, main_builds: 1 });
    expect(flakeOf(flakes, 'retryPassed')).toMatchObject({ builds: 1, jobs: 1, passed_on_retry: 1, main_builds: 0 });
    // Both attempts matched and failed; the chain ends failed.
    expect(flakeOf(flakes, 'retryFailed')).toMatchObject({ builds: 1, jobs: 2, ...none });
    for (const id of ['singlePr', 'onMain', 'retryPassed', 'retryFailed'] as const) {
      expect(flakeOf(flakes, id).prs, id).toHaveLength(1);
    }
    expect(flakeOf(flakes, 'sharedPrs').reason).toBe('seen in 3 PRs and on main 0 times; passed on retry 0 times');
    expect(flakeOf(flakes, 'onMain').reason).toBe('seen in 1 PR and on main 1 time; passed on retry 0 times');
    expect(flakeOf(flakes, 'retryPassed').reason).toBe('seen in 1 PR and on main 0 times; passed on retry 1 time');

    const noise = flakeOf(flakes, 'noise');
    const [, passed, jobs] = /^(\d+) of (\d+) matched attempts passed: /.exec(noise.reason) ?? [];
    expect(Number(jobs)).toBe(noise.jobs);
    expect(Number(passed) * 2).toBeGreaterThan(noise.jobs);
    // Some attempts that did not pass print it too: the verdict rests on the proportion.
    expect(Number(passed)).toBeLessThan(noise.jobs);
    expect(noise.prs.length).toBeGreaterThan(0);
  });

  it('finds a PR from a pr/N branch of a build that carries no pull_request', () => {
    const shared = attemptsWith(sim.dataset, VERDICT_SCENARIOS.sharedPrs.text).filter((a) => a.index < SCENARIO_WINDOW);
    const byHand = shared.filter((a) => a.build.pull_request === null);
    expect(byHand).toHaveLength(1);
    const branch = byHand[0]?.build.branch ?? '';
    expect(branch).toMatch(/^pr\/\d+$/);
    expect(flakeOf(flakes, 'sharedPrs').prs).toContain(branch.slice('pr/'.length));
  });

  it('leaves out the decoy: the same text in another step, which would make it flaky', () => {
    const text = VERDICT_SCENARIOS.singlePr.text;
    const decoys = attemptsWith(sim.dataset, text).filter((a) => !/v1 test others/i.test(a.job.name ?? ''));
    expect(decoys.length).toBe(2);
    const decoyPrs = decoys.map((a) => (a.build.pull_request as { id: string }).id);
    for (const d of decoys) {
      expect(d.job.name).toBe(DECOY_STEP_LABEL);
      expect(d.index).toBeLessThan(SCENARIO_WINDOW);
      expect(d.job.state).toBe('failed');
    }
    const single = flakeOf(flakes, 'singlePr');
    expect(single.prs.some((pr) => decoyPrs.includes(pr))).toBe(false);
    const everyStep = flakeOf(expectedFlakes(sim.dataset, { ...query, step: '' }), 'singlePr');
    expect(everyStep).toMatchObject({ verdict: 'flaky', builds: 4, jobs: 4 });
    expect(everyStep.prs).toEqual([...single.prs, ...decoyPrs].sort((a, b) => Number(a) - Number(b)));
  });

  it('leaves out the builds beyond the window: an older build of a scenario PR, and a PR seen only there', () => {
    const shared = flakeOf(flakes, 'sharedPrs');
    const sharedAttempts = attemptsWith(sim.dataset, VERDICT_SCENARIOS.sharedPrs.text);
    const beyond = sharedAttempts.filter((a) => a.index >= SCENARIO_WINDOW);
    expect(beyond).toHaveLength(2);
    const beyondPrs = beyond.map((a) => (a.build.pull_request as { id: string }).id);
    expect(beyondPrs.filter((pr) => shared.prs.includes(pr))).toHaveLength(1);
    const all = flakeOf(expectedFlakes(sim.dataset, { ...query, maxBuilds: sim.dataset.builds.length }), 'sharedPrs');
    expect(all).toMatchObject({ builds: 6, jobs: 6 });
    expect(all.prs).toHaveLength(4);
    expect(all.first_build).toBeLessThan(shared.first_build);
    expect(all.first_seen < shared.first_seen).toBe(true);
  });

  it('never reads a green attempt on the default branch as evidence, whatever it prints', () => {
    const onMain = attemptsWith(sim.dataset, VERDICT_SCENARIOS.onMain.text).filter((a) => a.build.branch === 'main');
    expect(onMain.map((a) => a.job.state).sort()).toEqual(['failed', 'passed']);
    expect(onMain.every((a) => a.index < SCENARIO_WINDOW)).toBe(true);
    expect(flakeOf(flakes, 'onMain').main_builds).toBe(1);
  });

  it('judges again without baseline evidence, and with a higher min-prs', () => {
    const noBaseline = expectedFlakes(sim.dataset, { ...query, baselineBranch: null });
    expect(noBaseline.some((f) => f.verdict === 'broken-main')).toBe(false);
    expect(flakeOf(noBaseline, 'onMain')).toMatchObject({
      verdict: 'single',
      builds: 1,
      jobs: 1,
      main_builds: 0,
      reason: 'seen in 1 PR; passed on retry 0 times',
    });
    const strict = expectedFlakes(sim.dataset, { ...query, minPrs: 5 });
    expect(flakeOf(strict, 'sharedPrs').verdict).toBe('single');
    expect(flakeOf(strict, 'retryPassed').verdict).toBe('flaky');
  });

  it('counts the baseline evidence apart, consistently with the builds and jobs it counts', () => {
    const counts = expectedBaselineCounts(sim.dataset, query);
    const window = sim.dataset.builds.slice(0, SCENARIO_WINDOW);
    // The default branch never passes the default branch filter: every one of its builds is evidence.
    expect(counts.baseline_builds).toBe(window.filter((b) => b.branch === 'main').length);
    const results = expectedCounts(sim.dataset, query).builds_matched_branch;
    expect(counts.baseline_builds + results).toBeLessThanOrEqual(SCENARIO_WINDOW);
    expect(counts.baseline_jobs_selected).toBeGreaterThanOrEqual(1);
    expect(counts.baseline_jobs_scanned).toBeLessThanOrEqual(counts.baseline_jobs_selected);
    const selectedOnMain = window
      .filter((b) => b.branch === 'main')
      .flatMap((b) => b.jobs)
      .filter((j) => j.type === 'script' && j.started_at && /v1 test others/i.test(j.name ?? ''))
      .filter((j) => j.state !== 'passed');
    expect(counts.baseline_jobs_selected).toBe(selectedOnMain.length);
    const none = { baseline_builds: 0, baseline_jobs_selected: 0, baseline_jobs_scanned: 0 };
    expect(expectedBaselineCounts(sim.dataset, { ...query, baselineBranch: null })).toEqual(none);
    // A branch filter that keeps every build leaves nothing to be evidence only.
    expect(expectedBaselineCounts(sim.dataset, { ...query, branchRegex: '.*' })).toEqual(none);
  });
});

describe('small datasets', () => {
  it('carry no scenario below 100 builds, and keep the noise warning', async () => {
    const small = await startSimulator({ seed: 1, builds: 99 });
    try {
      const flakes = expectedFlakes(small.dataset, { ...query, maxBuilds: 99 });
      expect(flakes.map((f) => f.pattern)).toEqual([VERDICT_SCENARIOS.noise.text]);
    } finally {
      await small.close();
    }
  });
});
