// From what happened to each selected job to the scan's report: match records in job order,
// the logs that could not be read, and the counts of the footer. Pure: outcomes in, report out.

import type { BuildkiteBuild, BuildkiteJob } from './build.ts';
import type { Failure } from './discover/extract.ts';
import { clusterDiscovered, toDiscoveredRecord, type DiscoveredFailure, type DiscoveredRecord } from './discovered.ts';
import { collectFlakes, toOccurrence, type Occurrence } from './flakes.ts';
import type { PatternHit } from './scan-log.ts';
import { jobLabel, jobUrl, toMatchRecord } from './select.ts';
import type { VerdictRules } from './verdict.ts';
import type { LogFailure, MatchRecord, MissingLog, ScanReport } from './types.ts';

/** What reading one selected job's log came to. */
export type JobOutcome =
  | {
      readonly kind: 'scanned';
      /** One entry per pattern, in the order of the patterns: its hit, or null. */
      readonly hits: readonly (PatternHit | null)[];
      readonly bytes: number;
      readonly cached: boolean;
      /** Discovery's failures in this log (discover mode), else empty. */
      readonly failures: readonly Failure[];
    }
  /** The log answered 404: expired or never written. */
  | { readonly kind: 'missing' }
  | { readonly kind: 'failed'; readonly reason: string };

export interface JobResult {
  readonly build: BuildkiteBuild;
  readonly job: BuildkiteJob;
  readonly outcome: JobOutcome;
  /**
   * Scanned only as evidence: a baseline-branch build outside the branch filter. Its matches feed
   * the flakes' evidence but are never match records, and it is counted apart.
   */
  readonly evidenceOnly: boolean;
}

/** What the scan counted on its way, besides the jobs. */
export interface ScanCounters {
  /** Builds listed within the window. */
  readonly listed: number;
  /** Of those, builds that passed the branch filter. */
  readonly matchedBranch: number;
  /** Of those, baseline-branch builds outside the branch filter, scanned as evidence. */
  readonly baselineBuilds: number;
  /** The oldest and newest `created_at` of the builds listed ('' when none). */
  readonly windowStart: string;
  readonly windowEnd: string;
  /** Requests sent to Buildkite, retries included, and how many answered 429. */
  readonly requests: number;
  readonly rateLimited: number;
}

/**
 * The report of a finished scan. `patterns` are the pattern sources in the order the scanner
 * was given them (a hit's index names its pattern); records keep the order of `results`.
 */
export function buildScanReport(
  results: readonly JobResult[],
  patterns: readonly string[],
  counters: ScanCounters,
  warnings: readonly string[],
  rules: VerdictRules,
): ScanReport {
  const matches: MatchRecord[] = [];
  const failures: LogFailure[] = [];
  const missingLogs: MissingLog[] = [];
  const occurrences: Occurrence[] = [];
  const discovered: DiscoveredRecord[] = [];
  const found: DiscoveredFailure[] = [];
  let selected = 0;
  let scanned = 0;
  let missing = 0;
  let fromCache = 0;
  let bytes = 0;
  const baseline = { jobs: 0, scanned: 0, unread: 0 };
  for (const { build, job, outcome, evidenceOnly } of results) {
    if (outcome.kind === 'scanned') {
      outcome.hits.forEach((hit, p) => {
        const pattern = patterns[p];
        if (hit && pattern !== undefined) occurrences.push(toOccurrence(build, job, pattern, rules.baselineBranch));
      });
      for (const failure of outcome.failures) {
        found.push({ build, job, failure, evidenceOnly });
        if (!evidenceOnly) discovered.push(toDiscoveredRecord(build, job, failure));
      }
    }
    if (evidenceOnly) {
      baseline.jobs++;
      if (outcome.kind === 'scanned') baseline.scanned++;
      else if (outcome.kind === 'failed') baseline.unread++;
      continue;
    }
    selected++;
    if (outcome.kind === 'missing') {
      missing++;
      missingLogs.push({
        build_number: build.number,
        job_id: job.id,
        step_label: jobLabel(job),
        job_url: jobUrl(build, job),
      });
    } else if (outcome.kind === 'failed') {
      failures.push({
        build_number: build.number,
        job_id: job.id,
        step_label: jobLabel(job),
        job_url: jobUrl(build, job),
        reason: outcome.reason,
      });
    } else {
      scanned++;
      bytes += outcome.bytes;
      if (outcome.cached) fromCache++;
      outcome.hits.forEach((hit, p) => {
        const pattern = patterns[p];
        if (hit && pattern !== undefined) matches.push(toMatchRecord(build, job, pattern, hit));
      });
    }
  }
  return {
    matches,
    flakes: collectFlakes(occurrences, patterns, rules),
    discovered,
    clusters: clusterDiscovered(found, discovered, rules),
    failures,
    missing: missingLogs,
    pullRequestMatches: [],
    warnings,
    baselineBranch: rules.baselineBranch,
    repository: null,
    stats: {
      builds_scanned: counters.listed,
      builds_matched_branch: counters.matchedBranch,
      jobs_selected: selected,
      jobs_scanned: scanned,
      logs_missing: missing,
      logs_failed: failures.length,
      logs_from_cache: fromCache,
      bytes_scanned: bytes,
      requests: counters.requests,
      rate_limited: counters.rateLimited,
      window_start: counters.windowStart,
      window_end: counters.windowEnd,
      baseline_builds: counters.baselineBuilds,
      baseline_jobs_selected: baseline.jobs,
      baseline_jobs_scanned: baseline.scanned,
      baseline_logs_failed: baseline.unread,
    },
  };
}
