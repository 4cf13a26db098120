// Aggregating match records by pattern: the first step toward a flakiness verdict. A pattern
// that matches failed attempts across several PRs (or that a retry made pass) is a flake
// candidate; one that matches a single PR is more likely that PR's own breakage.

import type { LogFailure, MatchRecord } from './types.ts';

export interface PatternSummary {
  readonly pattern: string;
  readonly matches: readonly MatchRecord[];
  /** Distinct builds with a match. */
  readonly builds: number;
  /** Distinct PR numbers with a match (PR builds only). */
  readonly pullRequests: readonly string[];
  /** Matches in attempts that were retried (the retry may have passed: a flake signal). */
  readonly retriedAttempts: number;
  /** Seen in two or more PRs, or in a retried attempt: likely a flake, not a PR's own bug. */
  readonly likelyFlaky: boolean;
}

/** Why logs could not be fetched: each distinct reason with how many logs, most frequent first. */
export function countFailureReasons(failures: readonly LogFailure[]): [reason: string, count: number][] {
  const byReason = new Map<string, number>();
  for (const failure of failures) byReason.set(failure.reason, (byReason.get(failure.reason) ?? 0) + 1);
  return [...byReason].sort((a, b) => b[1] - a[1]);
}

/**
 * Groups matches by pattern: one summary for each pattern of `order` (with no matches when it
 * found none), then for any other pattern in the matches, by first match.
 */
export function summarizeByPattern(matches: readonly MatchRecord[], order: readonly string[] = []): PatternSummary[] {
  const groups = new Map<string, MatchRecord[]>();
  for (const pattern of order) groups.set(pattern, []);
  for (const match of matches) {
    const group = groups.get(match.pattern);
    if (group) group.push(match);
    else groups.set(match.pattern, [match]);
  }
  const summaries: PatternSummary[] = [];
  for (const [pattern, list] of groups) {
    const pullRequests = [...new Set(list.flatMap((m) => (m.pull_request ? [m.pull_request] : [])))];
    const retriedAttempts = list.filter((m) => m.retried).length;
    summaries.push({
      pattern,
      matches: list,
      builds: new Set(list.map((m) => m.build_number)).size,
      pullRequests,
      retriedAttempts,
      likelyFlaky: pullRequests.length >= 2 || retriedAttempts > 0,
    });
  }
  return summaries;
}
