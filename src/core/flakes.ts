// From match occurrences to flakes: per pattern, the evidence over the scanned window (which
// PRs, how many builds and attempts, retries that passed, builds on the baseline branch, first
// and last seen) and the verdict it supports (verdict.ts). Pure.

import type { BuildkiteBuild, BuildkiteJob } from './build.ts';
import { pullRequestId } from './select.ts';
import { judge, type Verdict, type VerdictRules } from './verdict.ts';

/** One pattern's evidence and verdict. Snake_case: this is public JSON (report file, `flakes`). */
export interface Flake {
  readonly pattern: string;
  readonly verdict: Verdict;
  readonly reason: string;
  /** Distinct PR numbers (sorted) with a matched attempt that did not pass. */
  readonly prs: readonly string[];
  /** Distinct builds with a match, baseline included. */
  readonly builds: number;
  /** Matched attempts, baseline included. */
  readonly jobs: number;
  /** Matched attempts that did not pass, were retried, and whose retry chain ended passed. */
  readonly passed_on_retry: number;
  /** Distinct baseline-branch builds with a matched attempt that did not pass. */
  readonly main_builds: number;
  /** Earliest and latest `created_at` of the matching builds (ISO 8601), and their numbers. */
  readonly first_seen: string;
  readonly last_seen: string;
  readonly first_build: number;
  readonly last_build: number;
}

/** One pattern matched in one attempt: what the evidence is made of. */
export interface Occurrence {
  readonly pattern: string;
  readonly buildNumber: number;
  readonly createdAt: string;
  /** The build's PR number, or null. */
  readonly pr: string | null;
  readonly onBaseline: boolean;
  /** The attempt's state is `passed`. */
  readonly passed: boolean;
  readonly passedOnRetry: boolean;
}

/**
 * The PR a build belongs to: `pull_request.id`, else the number in a `pr/N` or `pull/N/...`
 * branch (builds triggered by hand or by other tools on such branches carry no `pull_request`).
 */
export function prNumber(build: BuildkiteBuild): string | null {
  const id = pullRequestId(build);
  if (id !== null) return id;
  const m = /^(?:pr\/(\d+)$|pull\/(\d+)(?:\/|$))/.exec(build.branch ?? '');
  return m ? (m[1] ?? m[2] ?? null) : null;
}

/**
 * The state of the last attempt of `job`'s retry chain: follow `retried_in_job_id` through the
 * build's jobs (every attempt is listed with `include_retried_jobs=true`) until an attempt that
 * was not retried. Null when the chain breaks (an attempt missing from the build) or loops.
 */
export function retryChainEnd(build: BuildkiteBuild, job: BuildkiteJob): string | null {
  const byId = new Map((build.jobs ?? []).map((j) => [j.id, j]));
  let current = job;
  const seen = new Set<string>();
  while (current.retried === true) {
    if (seen.has(current.id) || !current.retried_in_job_id) return null;
    seen.add(current.id);
    const next = byId.get(current.retried_in_job_id);
    if (!next) return null;
    current = next;
  }
  return current === job ? null : (current.state ?? null);
}

/** The occurrence of `pattern` in `job` of `build`. */
export function toOccurrence(
  build: BuildkiteBuild,
  job: BuildkiteJob,
  pattern: string,
  baselineBranch: string | null,
): Occurrence {
  const passed = job.state === 'passed';
  return {
    pattern,
    buildNumber: build.number,
    createdAt: build.created_at ?? '',
    pr: prNumber(build),
    onBaseline: baselineBranch !== null && build.branch === baselineBranch,
    passed,
    passedOnRetry: !passed && job.retried === true && retryChainEnd(build, job) === 'passed',
  };
}

/**
 * The flakes of the patterns that matched, ranked by spread: distinct PRs, then builds, both
 * descending; ties keep the order of `patterns`.
 */
export function collectFlakes(
  occurrences: readonly Occurrence[],
  patterns: readonly string[],
  rules: VerdictRules,
): Flake[] {
  const byPattern = new Map<string, Occurrence[]>();
  for (const pattern of patterns) byPattern.set(pattern, []);
  for (const o of occurrences) {
    const list = byPattern.get(o.pattern);
    if (list) list.push(o);
    else byPattern.set(o.pattern, [o]);
  }
  const flakes: Flake[] = [];
  for (const [pattern, list] of byPattern) {
    if (list.length === 0) continue;
    const failing = list.filter((o) => !o.passed);
    const prs = [...new Set(failing.flatMap((o) => (o.pr === null ? [] : [o.pr])))].sort(comparePrs);
    const mainBuilds = new Set(failing.filter((o) => o.onBaseline).map((o) => o.buildNumber)).size;
    const passedOnRetry = failing.filter((o) => o.passedOnRetry).length;
    const numbers = list.map((o) => o.buildNumber);
    const dates = list
      .map((o) => o.createdAt)
      .filter((d) => d !== '')
      .sort();
    const { verdict, reason } = judge(
      { jobs: list.length, passedJobs: list.length - failing.length, prs: prs.length, passedOnRetry, mainBuilds },
      rules,
    );
    flakes.push({
      pattern,
      verdict,
      reason,
      prs,
      builds: new Set(numbers).size,
      jobs: list.length,
      passed_on_retry: passedOnRetry,
      main_builds: mainBuilds,
      first_seen: dates[0] ?? '',
      last_seen: dates[dates.length - 1] ?? '',
      first_build: Math.min(...numbers),
      last_build: Math.max(...numbers),
    });
  }
  // Array.prototype.sort is stable: equal spread keeps the patterns' order.
  return flakes.sort((a, b) => b.prs.length - a.prs.length || b.builds - a.builds);
}

/** PR numbers in numeric order (they are digit strings; anything else after them, by text). */
function comparePrs(a: string, b: string): number {
  const x = Number(a);
  const y = Number(b);
  if (Number.isFinite(x) && Number.isFinite(y)) return x - y;
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * The flakes that hit pull request `pr`: a failing attempt of one of its builds matched, or any
 * of its match records did. In the order of `flakes`.
 */
export function flakesOfPullRequest(
  flakes: readonly Flake[],
  matches: readonly { pattern: string; pull_request: string | null }[],
  pr: string,
): Flake[] {
  const matched = new Set(matches.filter((m) => m.pull_request === pr).map((m) => m.pattern));
  return flakes.filter((f) => f.prs.includes(pr) || matched.has(f.pattern));
}
