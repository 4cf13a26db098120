// The action's machine-readable results: step outputs and the full JSON report file.

import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { LogFailure, MatchRecord, ScanReport, ScanStats } from '../core/types.ts';
import { describeSettings, type Settings } from '../settings.ts';

/** The report file's shape: everything a later step or a person needs, never the token. */
export interface FullReport {
  readonly settings: Record<string, unknown>;
  readonly match_count: number;
  readonly failure_count: number;
  readonly stats: ScanStats;
  readonly matches: readonly MatchRecord[];
  readonly failures: readonly LogFailure[];
  readonly warnings: readonly string[];
}

export function buildFullReport(report: ScanReport, settings: Settings): FullReport {
  return {
    settings: describeSettings(settings),
    match_count: report.matches.length,
    failure_count: report.failures.length,
    stats: report.stats,
    matches: report.matches,
    failures: report.failures,
    warnings: report.warnings,
  };
}

/**
 * Writes the report as JSON into a fresh directory under `tempDir` (RUNNER_TEMP on a runner,
 * emptied after every job) and returns its path. A fresh directory keeps two uses of the
 * action in one job from overwriting each other's report.
 */
export function writeReportFile(report: FullReport, tempDir: string): string {
  mkdirSync(tempDir, { recursive: true });
  const dir = mkdtempSync(join(tempDir, 'flake-checker-'));
  const path = join(dir, 'report.json');
  writeFileSync(path, `${JSON.stringify(report, null, 2)}\n`);
  return path;
}

/** Sets the step outputs declared in action.yml. */
export function setOutputs(report: ScanReport, reportFile: string, setOutput: (name: string, value: string) => void): void {
  // The same records as the CLI's --json; large scans make this big, and report-file has it too.
  setOutput('matches', JSON.stringify(report.matches));
  setOutput('match-count', String(report.matches.length));
  setOutput('builds-scanned', String(report.stats.builds_scanned));
  setOutput('jobs-scanned', String(report.stats.jobs_scanned));
  setOutput('report-file', reportFile);
}
