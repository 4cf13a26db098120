// The human report printed by the CLI, in the spec's shape, safe for a terminal.

import { summarizeByPattern } from '../core/aggregate.ts';
import { toPrintable } from '../core/clean-line.ts';
import type { ScanReport } from '../core/types.ts';

export function renderText(report: ScanReport, patternOrder: readonly string[]): string {
  const out: string[] = [];
  const { matches, stats, failures } = report;
  const n = matches.length;
  out.push(n === 0 ? 'Found 0 matching failures.' : `Found ${n} matching failure${n === 1 ? '' : 's'}:`);
  for (const m of matches) {
    const branch = m.pull_request ? `${m.branch} · PR #${m.pull_request}` : m.branch;
    out.push('');
    out.push(`- #${m.build_number} [${safe(branch)}] ${safe(m.step_label)} — ${safe(m.web_url)}`);
    out.push(`  Pattern: ${safe(m.pattern)}`);
    out.push(`  Snippet: ${safe(m.snippet)}`);
    const notes = [`line ${m.line}`];
    if (m.count > 1) notes.push(`${m.count} lines matched`);
    notes.push(`job ${safe(m.job_state)}${m.retried ? ', retried' : ''}`);
    out.push(`  Job: ${safe(m.job_url)} (${notes.join(', ')})`);
  }

  const summaries = summarizeByPattern(matches, patternOrder);
  if (summaries.length > 0) {
    out.push('');
    out.push('By pattern:');
    for (const s of summaries) {
      const prs = s.pullRequests.length;
      const verdict = s.likelyFlaky ? 'likely flaky' : 'single PR or branch';
      out.push(`- ${safe(s.pattern)}: ${s.matches.length} job${s.matches.length === 1 ? '' : 's'} in ${s.builds} build${s.builds === 1 ? '' : 's'}, ${prs} PR${prs === 1 ? '' : 's'}, ${s.retriedAttempts} retried attempt${s.retriedAttempts === 1 ? '' : 's'} (${verdict})`);
    }
  }

  if (failures.length > 0) {
    out.push('');
    out.push(`Could not fetch ${failures.length} log${failures.length === 1 ? '' : 's'}:`);
    for (const f of failures.slice(0, 20)) out.push(`- #${f.build_number} ${safe(f.step_label)} (${safe(f.job_id)}): ${safe(f.reason)}`);
    if (failures.length > 20) out.push(`- … and ${failures.length - 20} more`);
  }

  out.push('');
  out.push(`Scanned ${stats.builds_scanned} builds, ${stats.jobs_scanned} jobs, ${n} matches found.`);
  const extra = [
    `${plural(stats.builds_matched_branch, 'build')} passed the branch filter`,
    `${plural(stats.jobs_selected, 'job')} selected`,
    `${plural(stats.logs_missing, 'log')} missing`,
  ];
  if (stats.logs_failed > 0) extra.push(`${plural(stats.logs_failed, 'log')} could not be fetched`);
  if (stats.logs_from_cache > 0) extra.push(`${plural(stats.logs_from_cache, 'log')} from cache`);
  const requests = `${plural(stats.requests, 'request')}${stats.rate_limited > 0 ? `, ${stats.rate_limited} rate-limited` : ''}`;
  out.push(`(${extra.join(', ')}; ${requests}.)`);
  return `${out.join('\n')}\n`;
}

function plural(n: number, noun: string): string {
  return `${n} ${noun}${n === 1 ? '' : 's'}`;
}

function safe(text: string): string {
  return toPrintable(text);
}
