// The full report as JSON: what the CLI's --report-file and the action's report-file hold.
// Snake_case names: this is a public shape that later steps and scripts read.

import type { Cluster, DiscoveredRecord } from '../core/discovered.ts';
import type { Flake } from '../core/flakes.ts';
import type { LogFailure, MatchRecord, ScanReport, ScanStats } from '../core/types.ts';
import { describeSettings, type Settings } from '../settings.ts';
import type { TrackerSummary } from '../tracker/state.ts';

/** The report file's shape: everything a later step or a person needs, never the token. */
export interface FullReport {
  readonly settings: Record<string, unknown>;
  readonly match_count: number;
  readonly failure_count: number;
  readonly stats: ScanStats;
  /** The branch whose failures were baseline evidence, or null. */
  readonly baseline_branch: string | null;
  /** Per pattern that matched: evidence and verdict, ranked by spread. */
  readonly flakes: readonly Flake[];
  readonly matches: readonly MatchRecord[];
  /** Discover mode: per signature, its evidence, verdict and regex; and one record per (job, signature). */
  readonly clusters: readonly Cluster[];
  readonly discovered: readonly DiscoveredRecord[];
  readonly failures: readonly LogFailure[];
  readonly warnings: readonly string[];
  /** The tracker this run merged into (issue or file), or null when there was none. */
  readonly tracker: TrackerSummary | null;
}

export function buildFullReport(
  report: ScanReport,
  settings: Settings,
  tracker: TrackerSummary | null = null,
): FullReport {
  return {
    settings: describeSettings(settings),
    match_count: report.matches.length,
    failure_count: report.failures.length,
    stats: report.stats,
    baseline_branch: report.baselineBranch,
    flakes: report.flakes,
    matches: report.matches,
    clusters: report.clusters,
    discovered: report.discovered,
    failures: report.failures,
    warnings: report.warnings,
    tracker,
  };
}

/** The full report as pretty-printed JSON text. */
export function renderFullReport(
  report: ScanReport,
  settings: Settings,
  tracker: TrackerSummary | null = null,
): string {
  return `${JSON.stringify(buildFullReport(report, settings, tracker), null, 2)}\n`;
}
