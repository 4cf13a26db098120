// The human report printed by the CLI: one entry per match, then a summary per pattern and the
// footer. Safe for a terminal: every value from Buildkite goes through toPrintable.

import { summarizeByPattern } from '../core/aggregate.ts';
import { toPrintable } from '../core/clean-line.ts';
import type { ScanReport } from '../core/types.ts';
import { listLogFailures, logsNotFetched, plural } from './messages.ts';

export function renderText(report: ScanReport, patternOrder: readonly string[]): string {
  const out: string[] = [];
  const { matches, stats, failures } = report;
  const n = matches.length;
  out.push(n === 0 ? 'Found 0 matching failures.' : `Found ${plural(n, 'matching failure')}:`);
  for (const m of matches) {
    const branch = m.pull_request ? `${m.branch} · PR #${m.pull_request}` : m.branch;
    out.push('');
    out.push(`- #${m.build_number} [${toPrintable(branch)}] ${toPrintable(m.step_label)} — ${toPrintable(m.web_url)}`);
    out.push(`  Pattern: ${toPrintable(m.pattern)}`);
    out.push(`  Snippet: ${toPrintable(m.snippet)}`);
    const notes = [`line ${m.line}`];
    if (m.count > 1) notes.push(`${m.count} lines matched`);
    notes.push(`job ${toPrintable(m.job_state)}${m.retried ? ', retried' : ''}`);
    out.push(`  Job: ${toPrintable(m.job_url)} (${notes.join(', ')})`);
  }

  const summaries = summarizeByPattern(matches, patternOrder).filter((s) => s.matches.length > 0);
  if (summaries.length > 0) {
    out.push('');
    out.push('By pattern:');
    for (const s of summaries) {
      const prs = s.pullRequests.length;
      const verdict = s.likelyFlaky ? 'likely flaky' : 'single PR or branch';
      out.push(`- ${toPrintable(s.pattern)}: ${plural(s.matches.length, 'job')} in ${plural(s.builds, 'build')}, ${plural(prs, 'PR')}, ${plural(s.retriedAttempts, 'retried attempt')} (${verdict})`);
    }
  }

  if (failures.length > 0) {
    out.push('');
    out.push(`Could not fetch ${plural(failures.length, 'log')}:`);
    for (const line of listLogFailures(failures)) out.push(`- ${line}`);
  }

  out.push('');
  out.push(`Scanned ${stats.builds_scanned} builds, ${stats.jobs_scanned} jobs, ${n} matches found.`);
  const extra = [
    `${plural(stats.builds_matched_branch, 'build')} passed the branch filter`,
    `${plural(stats.jobs_selected, 'job')} selected`,
    `${plural(stats.logs_missing, 'log')} missing`,
  ];
  if (stats.logs_failed > 0) extra.push(logsNotFetched(stats.logs_failed));
  if (stats.logs_from_cache > 0) extra.push(`${plural(stats.logs_from_cache, 'log')} from cache`);
  const requests = `${plural(stats.requests, 'request')}${stats.rate_limited > 0 ? `, ${stats.rate_limited} rate-limited` : ''}`;
  out.push(`(${extra.join(', ')}; ${requests}.)`);
  return `${out.join('\n')}\n`;
}
