// Grouping for reports: failure reasons by frequency, matches by pattern.

import type { LogFailure, MatchRecord } from './types.ts';

/** Why logs could not be fetched: each distinct reason with how many logs, most frequent first. */
export function countFailureReasons(failures: readonly LogFailure[]): [reason: string, count: number][] {
  const byReason = new Map<string, number>();
  for (const failure of failures) byReason.set(failure.reason, (byReason.get(failure.reason) ?? 0) + 1);
  return [...byReason].sort((a, b) => b[1] - a[1]);
}

/** The match records of each pattern, in the order of the records. */
export function groupByPattern(matches: readonly MatchRecord[]): Map<string, MatchRecord[]> {
  const groups = new Map<string, MatchRecord[]>();
  for (const match of matches) {
    const group = groups.get(match.pattern);
    if (group) group.push(match);
    else groups.set(match.pattern, [match]);
  }
  return groups;
}
