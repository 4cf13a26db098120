// The action's machine-readable results: step outputs and the full JSON report file.

import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ScanReport } from '../core/types.ts';
import type { Settings } from '../settings.ts';
import { renderFullReport } from '../report/render-json.ts';

/**
 * Writes the report as JSON into a fresh directory under `tempDir` (RUNNER_TEMP on a runner,
 * emptied after every job) and returns its path. A fresh directory keeps two uses of the
 * action in one job from overwriting each other's report.
 */
export function writeReportFile(report: ScanReport, settings: Settings, tempDir: string): string {
  mkdirSync(tempDir, { recursive: true });
  const dir = mkdtempSync(join(tempDir, 'flake-checker-'));
  const path = join(dir, 'report.json');
  writeFileSync(path, renderFullReport(report, settings));
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
  setOutput('flakes', JSON.stringify(report.flakes));
  setOutput('flaky-count', String(report.flakes.filter((f) => f.verdict === 'flaky').length));
}
