// The action's machine-readable results: step outputs and the full JSON report file.

import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ScanReport } from '../core/types.ts';
import type { Settings } from '../settings.ts';
import type { TrackerSummary } from '../tracker/state.ts';
import { matchesOutputCut } from '../report/messages.ts';
import { renderFullReport } from '../report/render-json.ts';

/**
 * Writes the report as JSON into a fresh directory under `tempDir` (RUNNER_TEMP on a runner,
 * emptied after every job) and returns its path. A fresh directory keeps two uses of the
 * action in one job from overwriting each other's report.
 */
export function writeReportFile(
  report: ScanReport,
  settings: Settings,
  tempDir: string,
  tracker: TrackerSummary | null,
): string {
  mkdirSync(tempDir, { recursive: true });
  const dir = mkdtempSync(join(tempDir, 'flake-checker-'));
  const path = join(dir, 'report.json');
  writeFileSync(path, renderFullReport(report, settings, tracker));
  return path;
}

/**
 * GitHub keeps at most 1 MB of outputs per job: `matches` (the one output that grows with the
 * scan) is cut to this many bytes of JSON, whole records only; `report-file` keeps everything.
 */
export const MATCHES_OUTPUT_MAX_BYTES = 512 * 1024;

/** The `matches` output: every record, or as many as fit, and how many that is. */
export function matchesOutput(
  report: ScanReport,
  maxBytes = MATCHES_OUTPUT_MAX_BYTES,
): { json: string; shown: number } {
  // Discovered records are match records too, with what their signature is.
  const records = [...report.matches, ...report.discovered];
  const all = JSON.stringify(records);
  if (Buffer.byteLength(all) <= maxBytes) return { json: all, shown: records.length };
  const parts: string[] = [];
  let size = 2;
  for (const match of records) {
    const part = JSON.stringify(match);
    const cost = Buffer.byteLength(part) + (parts.length > 0 ? 1 : 0);
    if (size + cost > maxBytes) break;
    parts.push(part);
    size += cost;
  }
  return { json: `[${parts.join(',')}]`, shown: parts.length };
}

/**
 * Sets the step outputs declared in action.yml. Returns a warning when `matches` had to be cut.
 */
export function setOutputs(
  report: ScanReport,
  reportFile: string,
  trackerIssue: number | null,
  setOutput: (name: string, value: string) => void,
): string | null {
  // The same records as the CLI's --json, as many as GitHub keeps; report-file has them all.
  const matches = matchesOutput(report);
  setOutput('matches', matches.json);
  setOutput('match-count', String(report.matches.length));
  setOutput('builds-scanned', String(report.stats.builds_scanned));
  setOutput('jobs-scanned', String(report.stats.jobs_scanned));
  setOutput('report-file', reportFile);
  setOutput('flakes', JSON.stringify(report.flakes));
  setOutput('flaky-count', String(report.flakes.filter((f) => f.verdict === 'flaky').length));
  setOutput('tracker-issue', trackerIssue === null ? '' : String(trackerIssue));
  const total = report.matches.length + report.discovered.length;
  return matches.shown < total ? matchesOutputCut(matches.shown, total, reportFile) : null;
}
