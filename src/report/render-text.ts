// The human report printed by the CLI: the flakes first (one line each: verdict, pattern and the
// evidence), then one entry per match, then the footer. Safe for a terminal: every value from
// Buildkite goes through toPrintable.

import { toPrintable } from '../core/clean-line.ts';
import type { Flake } from '../core/flakes.ts';
import type { ScanReport } from '../core/types.ts';
import { isoDay } from './dates.ts';
import { listLogFailures, listLogs, logsNotFetched, plural } from './messages.ts';
import { PLAIN, type Style } from './style.ts';

export function renderText(report: ScanReport, style: Style = PLAIN): string {
  const out: string[] = [];
  const { matches, stats, failures } = report;
  if (report.flakes.length > 0) {
    out.push('Flakes (by spread: distinct PRs, then builds):');
    const width = Math.max(...report.flakes.map((f) => f.verdict.length));
    for (const flake of report.flakes) {
      out.push(
        `- ${style.verdict(flake.verdict, flake.verdict.padEnd(width))}  ${style.pattern(toPrintable(flake.pattern))}`,
      );
      out.push(`  ${describeFlake(flake)}`);
    }
    out.push('');
  }
  if (report.clusters.length > 0) {
    out.push(`Discovered failure signatures (${plural(report.discovered.length, 'record')}, by spread):`);
    const width = Math.max(...report.clusters.map((c) => c.verdict.length));
    for (const cluster of report.clusters) {
      out.push(
        `- ${style.verdict(cluster.verdict, cluster.verdict.padEnd(width))}  ${style.pattern(toPrintable(cluster.signature))}`,
      );
      out.push(`  ${describeFlake(cluster)}`);
      const e = cluster.example;
      out.push(`  e.g. #${e.build_number} ${toPrintable(e.step_label)}, line ${e.line}: ${toPrintable(e.snippet)}`);
      out.push(`  Pattern: ${toPrintable(cluster.pattern)}`);
    }
    out.push('');
  }
  const n = matches.length;
  out.push(n === 0 ? 'Found 0 matching failures.' : `Found ${plural(n, 'matching failure')}:`);
  for (const m of matches) {
    const branch = m.pull_request ? `${m.branch} · PR #${m.pull_request}` : m.branch;
    out.push('');
    out.push(
      `- #${m.build_number} [${toPrintable(branch)}] ${toPrintable(m.step_label)} — ${style.link(toPrintable(m.web_url))}`,
    );
    out.push(`  Pattern: ${style.pattern(toPrintable(m.pattern))}`);
    out.push(`  Snippet: ${toPrintable(m.snippet)}`);
    const notes = [`line ${m.line}`];
    if (m.count > 1) notes.push(`${m.count} lines matched`);
    notes.push(`job ${toPrintable(m.job_state)}${m.retried ? ', retried' : ''}`);
    out.push(`  Job: ${style.link(toPrintable(m.job_url))} (${notes.join(', ')})`);
  }

  if (failures.length > 0) {
    out.push('');
    out.push(`Could not fetch ${plural(failures.length, 'log')}:`);
    for (const line of listLogFailures(failures)) out.push(`- ${line}`);
  }
  if (report.missing.length > 0) {
    out.push('');
    out.push(`Missing ${plural(report.missing.length, 'log')} (404: expired or never written):`);
    for (const line of listLogs(report.missing)) out.push(`- ${line}`);
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
  if (report.baselineBranch !== null) {
    extra.push(
      `evidence from ${toPrintable(report.baselineBranch)}: ${plural(stats.baseline_jobs_scanned, 'failed log')} of ` +
        `${plural(stats.baseline_builds, 'build')} outside the branch filter`,
    );
  }
  const requests = `${plural(stats.requests, 'request')}${stats.rate_limited > 0 ? `, ${stats.rate_limited} rate-limited` : ''}`;
  out.push(`(${extra.join(', ')}; ${requests}.)`);
  return `${out.join('\n')}\n`;
}

/** The evidence line: the verdict's reason, then spread and dates. */
function describeFlake(flake: Flake): string {
  const prs =
    flake.prs.length > 0
      ? ` (PRs ${flake.prs
          .slice(0, 10)
          .map((p) => `#${toPrintable(p)}`)
          .join(', ')}${flake.prs.length > 10 ? ', …' : ''})`
      : '';
  return (
    `${toPrintable(flake.reason)}${prs}; ${plural(flake.builds, 'build')}, ${plural(flake.jobs, 'job')}; ` +
    `first seen ${isoDay(flake.first_seen)} (#${flake.first_build}), last seen ${isoDay(flake.last_seen)} (#${flake.last_build})`
  );
}
