// The oracle's flakes: per pattern, the evidence a correct scan gathers over the window and the
// verdict it earns, restated from the rules (README, "Ground truth") over the dataset itself. Like
// ground-truth.ts it shares no code with the scanner, nor with its flakes and verdict modules.

import type { SimBuild, SimJob } from './api-objects.ts';
import type { Dataset } from './dataset.ts';
import { lineTests, pullRequestId, selectBuilds, selectJobs, type GroundTruthQuery } from './ground-truth.ts';

export interface FlakeQuery extends GroundTruthQuery {
  /** Failed attempts of this branch's builds outside the branch filter are evidence; null: none are. */
  readonly baselineBranch: string | null;
  /** A failure seen in this many distinct PRs is flaky (rule 4). */
  readonly minPrs: number;
}

export type ExpectedVerdict = 'noise' | 'flaky' | 'broken-main' | 'single';

/** One matched pattern's evidence and verdict: the scanner's `Flake`, field for field. */
export interface ExpectedFlake {
  readonly pattern: string;
  readonly verdict: ExpectedVerdict;
  readonly reason: string;
  /** Distinct PRs of the attempts that did not pass, in numeric order. */
  readonly prs: readonly string[];
  readonly builds: number;
  readonly jobs: number;
  readonly passed_on_retry: number;
  readonly main_builds: number;
  readonly first_seen: string;
  readonly last_seen: string;
  readonly first_build: number;
  readonly last_build: number;
}

export interface ExpectedBaselineCounts {
  /** Builds of the window on the baseline branch that the branch filter leaves out. */
  readonly baseline_builds: number;
  /** Their selected attempts that did not pass. */
  readonly baseline_jobs_selected: number;
  /** Of those, the attempts whose log exists. */
  readonly baseline_jobs_scanned: number;
}

/** One pattern matched in one scanned attempt. */
interface Occurrence {
  readonly build: number;
  readonly createdAt: string;
  readonly pr: string | null;
  readonly onBaseline: boolean;
  readonly passed: boolean;
  readonly passedOnRetry: boolean;
}

/** Builds of the window read as evidence only: on the baseline branch, outside the branch filter. */
function evidenceBuilds(dataset: Dataset, query: GroundTruthQuery & { baselineBranch: string | null }): SimBuild[] {
  const { scanned, kept } = selectBuilds(dataset, query);
  const results = new Set(kept);
  return scanned.filter((b) => !results.has(b) && query.baselineBranch !== null && b.branch === query.baselineBranch);
}

/** Every attempt whose log is read: the results' selected jobs, then the evidence's failed ones. */
function scannedAttempts(dataset: Dataset, query: FlakeQuery): { build: SimBuild; job: SimJob }[] {
  const results = selectBuilds(dataset, query).kept.flatMap((build) =>
    selectJobs(build, query).map((job) => ({ build, job })),
  );
  const evidence = evidenceBuilds(dataset, query).flatMap((build) =>
    selectJobs(build, query)
      .filter((job) => job.state !== 'passed')
      .map((job) => ({ build, job })),
  );
  return [...results, ...evidence].filter(({ job }) => dataset.logExists(job.id));
}

/** `pull_request.id`, else the N of a `pr/N` or `pull/N/…` branch. */
function prOf(build: SimBuild): string | null {
  const m = /^pr\/(\d+)$/.exec(build.branch) ?? /^pull\/(\d+)(\/|$)/.exec(build.branch);
  return pullRequestId(build) ?? m?.[1] ?? null;
}

/**
 * The attempt was retried, and following `retried_in_job_id` through the build's jobs leads to
 * an attempt that was not retried and passed; a missing id or a loop leads nowhere.
 */
function passedOnRetry(build: SimBuild, job: SimJob): boolean {
  if (job.retried !== true) return false;
  const seen = new Set<string>();
  let attempt = job;
  while (attempt.retried === true) {
    if (seen.has(attempt.id)) return false;
    seen.add(attempt.id);
    const id = attempt.retried_in_job_id;
    const next = build.jobs.find((j) => j.id === id);
    if (!next) return false;
    attempt = next;
  }
  return attempt.state === 'passed';
}

function times(n: number): string {
  return n === 1 ? '1 time' : `${n} times`;
}

function judge(pattern: string, found: readonly Occurrence[], query: FlakeQuery): ExpectedFlake {
  const failing = found.filter((o) => !o.passed);
  const passed = found.length - failing.length;
  const prs = [...new Set(failing.flatMap((o) => (o.pr === null ? [] : [o.pr])))].sort((a, b) => Number(a) - Number(b));
  const mainBuilds = new Set(failing.filter((o) => o.onBaseline).map((o) => o.build)).size;
  const retried = failing.filter((o) => o.passedOnRetry).length;
  const jobs = found.length;
  let verdict: ExpectedVerdict;
  if (passed * 2 > jobs) verdict = 'noise';
  else if (retried >= 1) verdict = 'flaky';
  else if (mainBuilds >= 1) verdict = 'broken-main';
  else if (prs.length >= query.minPrs) verdict = 'flaky';
  else verdict = 'single';
  const onBaseline = query.baselineBranch === null ? '' : ` and on ${query.baselineBranch} ${times(mainBuilds)}`;
  const reason =
    verdict === 'noise'
      ? `${passed} of ${jobs} matched attempt${jobs === 1 ? '' : 's'} passed: the text also shows up in green jobs`
      : `seen in ${prs.length} PR${prs.length === 1 ? '' : 's'}${onBaseline}; passed on retry ${times(retried)}`;
  const created = found.map((o) => o.createdAt).sort();
  const numbers = found.map((o) => o.build);
  return {
    pattern,
    verdict,
    reason,
    prs,
    builds: new Set(numbers).size,
    jobs,
    passed_on_retry: retried,
    main_builds: mainBuilds,
    first_seen: created[0] as string,
    last_seen: created[created.length - 1] as string,
    first_build: Math.min(...numbers),
    last_build: Math.max(...numbers),
  };
}

/**
 * The flakes a correct scan reports: one per pattern with at least one occurrence, ranked by
 * distinct PRs, then builds, both descending; ties in the order of `query.patterns`.
 */
export function expectedFlakes(dataset: Dataset, query: FlakeQuery): ExpectedFlake[] {
  const tests = lineTests(query);
  const found: Occurrence[][] = query.patterns.map(() => []);
  for (const { build, job } of scannedAttempts(dataset, query)) {
    const hit = tests.map(() => false);
    for (const line of dataset.cleanLines(job.id)) tests.forEach((test, i) => (hit[i] ||= test(line)));
    const passed = job.state === 'passed';
    const occurrence: Occurrence = {
      build: build.number,
      createdAt: build.created_at,
      pr: prOf(build),
      onBaseline: query.baselineBranch !== null && build.branch === query.baselineBranch,
      passed,
      passedOnRetry: !passed && passedOnRetry(build, job),
    };
    hit.forEach((h, i) => {
      if (h) found[i]?.push(occurrence);
    });
  }
  const flakes = query.patterns.flatMap((pattern, i) => {
    const list = found[i] as Occurrence[];
    return list.length > 0 ? [judge(pattern, list, query)] : [];
  });
  return flakes.sort((a, b) => b.prs.length - a.prs.length || b.builds - a.builds);
}

/** The report's evidence counts; all zero when there is no baseline branch. */
export function expectedBaselineCounts(
  dataset: Dataset,
  query: GroundTruthQuery & { readonly baselineBranch: string | null },
): ExpectedBaselineCounts {
  const builds = evidenceBuilds(dataset, query);
  const jobs = builds.flatMap((b) => selectJobs(b, query)).filter((j) => j.state !== 'passed');
  return {
    baseline_builds: builds.length,
    baseline_jobs_selected: jobs.length,
    baseline_jobs_scanned: jobs.filter((j) => dataset.logExists(j.id)).length,
  };
}
