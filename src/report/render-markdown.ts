// Rendering a scan report as GitHub markdown, for the job summary, the PR comment and Buildkite
// annotations. Pure: report and settings in, a string out. Each destination has a hard size
// limit (1 MiB per step summary and annotation, 65,536 characters per comment), so the renderer
// works to a byte budget: every pattern keeps its heading and evidence, and when the matches do
// not fit, each pattern's rows are cut (round robin, so a noisy pattern cannot crowd out the
// others) with a note saying where the full list is.
//
// GitHub shows a comment about 780 px wide: tables keep to four narrow columns, and snippets sit
// on a line of their own. Every value from Buildkite is hostile text and goes through escape.ts.

import { countFailureReasons, groupByPattern } from '../core/aggregate.ts';
import type { Cluster } from '../core/discovered.ts';
import { flakesOfPullRequest, type Flake } from '../core/flakes.ts';
import type { LogFailure, MatchRecord, ScanReport } from '../core/types.ts';
import type { Settings } from '../settings.ts';
import { shortDay, shortTime } from './dates.ts';
import { codeSpan, escapeMarkdownText, link, truncateBytes } from './escape.ts';
import { logsNotFetched, plural } from './messages.ts';
import { githubRepositoryUrl } from './repository.ts';

/** The settings the report shows: what was scanned, never the token. */
export type ReportSettings = Pick<
  Settings,
  'org' | 'pipeline' | 'step' | 'branchRegex' | 'maxBuilds' | 'patterns' | 'regex'
>;

export interface RenderOptions {
  /**
   * Upper bound of the result in UTF-8 bytes. UTF-8 bytes are never fewer than UTF-16 code
   * units, so a byte bound also holds for limits counted in characters.
   */
  readonly maxBytes: number;
  /** Trusted markdown naming where the complete report is; quoted in the note when cut. */
  readonly fullReportHint: string;
  /** Trusted text put first, verbatim (the sticky comment's hidden marker). */
  readonly prefix?: string;
  /** Trusted markdown put last (a link to the workflow run, say). */
  readonly footer?: string;
  /** The PR a comment is about: its patterns lead, and the wider list is collapsed. */
  readonly pullRequest?: string;
  /** Where PR numbers link when the pipeline's repository is not on GitHub (the workflow's). */
  readonly fallbackRepositoryUrl?: string | null;
}

/** Long user-given texts (patterns, regexes, labels) are shown cut to this many bytes. */
const SHOWN_TEXT_BYTES = 300;
/** At most this many distinct failure reasons are listed; the count covers all of them. */
const SHOWN_FAILURE_REASONS = 10;
/** At most this many PR links in a pattern's evidence line. */
const SHOWN_PRS = 10;

const VERDICT_LABELS: Record<Flake['verdict'], string> = {
  flaky: 'flaky',
  'broken-main': 'broken on main',
  single: 'single PR',
  noise: 'noise',
};

/** Renders the report; the result is at most `options.maxBytes` bytes of UTF-8. */
export function renderReport(report: ScanReport, settings: ReportSettings, options: RenderOptions): string {
  const repoUrl = githubRepositoryUrl(report.repository) ?? options.fallbackRepositoryUrl ?? null;
  const prLink = (pr: string): string =>
    /^\d+$/.test(pr) && repoUrl ? `[#${pr}](${repoUrl}/pull/${pr})` : escapeMarkdownText(`#${pr}`);
  const pr = options.pullRequest;
  const ours =
    pr === undefined ? [] : flakesOfPullRequest(report.flakes, [...report.matches, ...report.pullRequestMatches], pr);
  // A pattern that hit this PR sorts before every pattern that did not.
  const flakes = [...ours, ...report.flakes.filter((f) => !ours.includes(f))];
  const byPattern = groupByPattern(report.matches);

  const head = [
    options.prefix ?? '',
    renderTitle(settings),
    pr === undefined ? '' : renderThisPullRequest(pr, ours, report, settings, byPattern, prLink),
    renderCounts(report, settings),
    renderFailures(report.failures),
    pr === undefined ? '' : `<details><summary>Every pattern in the scanned window</summary>`,
  ].filter((part) => part !== '');
  const tail = [pr === undefined ? '' : '</details>', renderSettings(settings), options.footer ?? ''].filter(
    (part) => part !== '',
  );

  // The note is sized for the largest numbers it can hold, so reserving it up front is enough.
  const total = report.matches.length;
  const note = (shown: number): string =>
    `> [!NOTE]\n> Cut to stay under GitHub's size limit: ${shown} of ${total} matches are shown. ` +
    `The complete list is in ${options.fullReportHint}.`;
  const budget = new Budget(options.maxBytes - bytes(note(total)) - bytes(tail.join('\n\n')) - 8);
  for (const part of head) budget.force(part);

  const sections: Section[] = [];
  const table = renderFlakeTable(flakes, settings.patterns, report.baselineBranch);
  const tableShown = (settings.patterns.length === 0 && flakes.length === 0) || budget.tryAdd(table);
  let cut = !tableShown;
  // Discovered signatures: one entry each (not one per occurrence), as many as fit.
  const clusters = report.clusters.map((c) => renderCluster(c, prLink));
  let clustersShown = 0;
  if (!cut && clusters.length > 0) {
    const heading = `### Discovered failure signatures\n\n${plural(clusters.length, 'signature')} found without a pattern, ranked by spread; each with a regex to use as a pattern.`;
    if (budget.tryAdd(heading)) {
      for (const c of clusters) {
        if (!budget.tryReserve(bytes(c) + 1)) break;
        clustersShown++;
      }
    }
    cut = clustersShown < clusters.length;
  }
  // Every pattern with matches has a flake; a report put together by hand may lack one.
  const headed = new Set(flakes.map((f) => f.pattern));
  const unjudged = [...byPattern.keys()].filter((p) => !headed.has(p)).map((p) => ({ pattern: p, flake: null }));
  for (const { pattern, flake } of [...flakes.map((f) => ({ pattern: f.pattern, flake: f })), ...unjudged]) {
    if (cut) break;
    const heading = flake ? renderFlakeHeading(flake, prLink) : `### ${codeSpan(shorten(pattern))}`;
    if (!budget.tryAdd(heading)) {
      cut = true;
      break;
    }
    sections.push({ heading, rows: (byPattern.get(pattern) ?? []).map((m) => renderMatchItem(m, prLink)), shown: 0 });
  }
  // Rows round robin: the first match of every pattern, then the second, and so on.
  if (!cut) fillRows(sections, budget);
  const shown = sections.reduce((sum, s) => sum + s.shown, 0);
  cut ||= shown < total;

  const out = tableShown && (settings.patterns.length > 0 || flakes.length > 0) ? [...head, table] : [...head];
  if (clustersShown > 0) {
    out.push(
      `### Discovered failure signatures\n\n${plural(clusters.length, 'signature')} found without a pattern, ranked by spread; each with a regex to use as a pattern.\n\n` +
        clusters.slice(0, clustersShown).join('\n'),
    );
  }
  for (const section of sections) {
    const rows = section.rows.slice(0, section.shown);
    out.push(rows.length > 0 ? `${section.heading}\n\n${rows.join('\n')}` : section.heading);
  }
  if (cut) out.push(note(shown));
  out.push(...tail);
  // The head is forced in; with absurd inputs (a thousand long patterns in a tiny budget) the
  // result could still exceed the limit, and a cut document beats a refused one.
  return truncateBytes(`${out.join('\n\n')}\n`, options.maxBytes);
}

interface Section {
  readonly heading: string;
  readonly rows: readonly string[];
  shown: number;
}

/** Adds each section's next row in turn while they fit. */
function fillRows(sections: Section[], budget: Budget): void {
  for (let r = 0; ; r++) {
    let any = false;
    for (const section of sections) {
      const row = section.rows[r];
      if (row === undefined) continue;
      // The first row opens the list after a blank line; later rows follow on the next line.
      if (!budget.tryReserve(bytes(row) + (r === 0 ? 2 : 1))) return;
      section.shown = r + 1;
      any = true;
    }
    if (!any) return;
  }
}

/** The summary's line saying which tracker issue this run updated. */
export function renderTrackerLine(issue: number, outcome: string): string {
  return `Tracker issue #${issue} ${escapeMarkdownText(outcome)} with this run's flakes.`;
}

/** The job summary of a run that could not complete: why, in one paragraph. */
export function renderRunFailure(message: string): string {
  return `### flake-checker failed\n\n${escapeMarkdownText(truncateBytes(message, 2000))}\n`;
}

function renderTitle(settings: ReportSettings): string {
  const step = settings.step === '' ? 'every step' : `step ${codeSpan(shorten(settings.step))}`;
  return `## Flake check: ${codeSpan(`${settings.org}/${settings.pipeline}`)}, ${step}`;
}

/** What this PR's builds hit, each with the evidence from elsewhere, in a PR author's words. */
function renderThisPullRequest(
  pr: string,
  ours: readonly Flake[],
  report: ScanReport,
  settings: ReportSettings,
  byPattern: Map<string, MatchRecord[]>,
  prLink: (pr: string) => string,
): string {
  const title = `### This PR (${prLink(pr)})`;
  // Patterns that hit only this PR's builds older than the window have no flake of their own.
  const judged = new Set(ours.map((f) => f.pattern));
  const older = [...groupByPattern(report.pullRequestMatches)].filter(
    ([pattern]) => !judged.has(pattern) && !byPattern.has(pattern),
  );
  if (ours.length === 0 && older.length === 0) {
    const searched = settings.patterns.map((p) => codeSpan(shorten(p))).join(', ');
    return `${title}\n\nNo pattern hit this PR's builds in the scanned window. Searched for: ${searched}.`;
  }
  const hereOf = (pattern: string): MatchRecord | undefined =>
    [...(byPattern.get(pattern) ?? []), ...report.pullRequestMatches.filter((m) => m.pattern === pattern)].find(
      (m) => m.pull_request === pr,
    );
  const item = (pattern: string, description: string): string => {
    const here = hereOf(pattern);
    const where = here
      ? ` Here: ${link(`build ${here.build_number}`, here.web_url)}, ${link(shorten(here.step_label || here.job_id), here.job_url)}.`
      : '';
    const first = `- ${codeSpan(shorten(pattern))}: ${description}.${where}`;
    return here ? `${first}\\\n  ${codeSpan(here.snippet)}` : first;
  };
  const items = [
    ...ours.map((flake) => item(flake.pattern, describeForPullRequest(flake, pr, report.baselineBranch))),
    ...older.map(([pattern]) => item(pattern, '**only in this PR** (in builds older than the scanned window)')),
  ];
  return `${title}\n\n${items.join('\n')}`;
}

/** "known flake: seen in 4 other PRs since Nov 20, passed on retry 1 time", and the like. */
export function describeForPullRequest(flake: Flake, pr: string, baselineBranch: string | null): string {
  const others = flake.prs.filter((p) => p !== pr).length;
  const elsewhere = `seen in ${plural(others, 'other PR')}`;
  const since = shortDay(flake.first_seen);
  const retry = flake.passed_on_retry > 0 ? `, passed on retry ${times(flake.passed_on_retry)}` : '';
  switch (flake.verdict) {
    case 'noise':
      return `**also in green jobs**, not a failure signature: ${escapeMarkdownText(flake.reason)}`;
    case 'flaky':
      return `**known flake**: ${elsewhere}${since ? ` since ${since}` : ''}${retry}`;
    case 'broken-main':
      return `**fails on ${escapeMarkdownText(baselineBranch ?? 'main')} too** (${plural(flake.main_builds, 'build')})${others > 0 ? `; ${elsewhere}` : ''}`;
    case 'single':
      return others === 0 ? '**only in this PR**' : `**not a known flake yet**: ${elsewhere}`;
  }
}

function renderCounts(report: ScanReport, settings: ReportSettings): string {
  const { stats } = report;
  const matches = report.matches.length;
  const verdicts = countVerdicts(report.flakes);
  const discovered =
    report.clusters.length > 0
      ? ` **${plural(report.clusters.length, 'failure signature')}** discovered in ${plural(new Set(report.discovered.map((m) => m.build_number)).size, 'build')}: ${countVerdicts(report.clusters)}.`
      : '';
  const headline =
    matches === 0 && report.flakes.length === 0
      ? settings.patterns.length === 0
        ? discovered.trim() || '**No failure signature** discovered in the latest scan.'
        : `**No matches** for ${plural(settings.patterns.length, 'pattern')} in the latest scan.${discovered}`
      : `**${plural(matches, 'match', 'matches')}** in ${plural(new Set(report.matches.map((m) => m.build_number)).size, 'build')}` +
        (verdicts ? ` · ${plural(report.flakes.length, 'pattern')} matched: ${verdicts}` : '') +
        `.${discovered}`;
  const extras = [
    stats.logs_missing > 0 ? `${stats.logs_missing} missing (expired or never written)` : '',
    stats.logs_failed > 0 ? `${stats.logs_failed} not fetched` : '',
    stats.logs_from_cache > 0 ? `${stats.logs_from_cache} from cache` : '',
  ].filter((part) => part !== '');
  const span =
    stats.window_start && stats.window_end
      ? `, created ${shortTime(stats.window_start)} to ${shortTime(stats.window_end)}`
      : '';
  const baseline =
    report.baselineBranch === null
      ? ''
      : ` Also read as evidence: ${plural(stats.baseline_jobs_scanned, 'failed log')} of ${plural(stats.baseline_builds, 'build')} on ` +
        `${codeSpan(shorten(report.baselineBranch))} outside the branch filter.`;
  return (
    `${headline}\n\n` +
    `Scanned the ${plural(stats.builds_scanned, 'most recent build')}${span} ` +
    `(${stats.builds_matched_branch} on branches matching ${codeSpan(shorten(settings.branchRegex))}): ` +
    `${plural(stats.jobs_selected, 'job')} selected, ${plural(stats.jobs_scanned, 'log')} scanned` +
    (extras.length > 0 ? ` (${extras.join(', ')})` : '') +
    `.${baseline}`
  );
}

function countVerdicts(flakes: readonly Flake[]): string {
  const counts = new Map<string, number>();
  for (const f of flakes) counts.set(VERDICT_LABELS[f.verdict], (counts.get(VERDICT_LABELS[f.verdict]) ?? 0) + 1);
  return [...counts].map(([label, n]) => `${n} ${label}`).join(', ');
}

function renderFailures(failures: readonly LogFailure[]): string {
  if (failures.length === 0) return '';
  const reasons = countFailureReasons(failures);
  const lines = reasons
    .slice(0, SHOWN_FAILURE_REASONS)
    .map(([reason, count]) => `> - ${count} × ${escapeMarkdownText(shorten(reason))}`);
  if (reasons.length > SHOWN_FAILURE_REASONS)
    lines.push(`> - and ${reasons.length - SHOWN_FAILURE_REASONS} other reasons`);
  return `> [!WARNING]\n> ${logsNotFetched(failures.length)}; matches in them are missing:\n${lines.join('\n')}`;
}

/** Every pattern searched for, ranked by spread, so a reader sees what came back empty too. */
function renderFlakeTable(
  flakes: readonly Flake[],
  patterns: readonly string[],
  baselineBranch: string | null,
): string {
  const matched = new Set(flakes.map((f) => f.pattern));
  const rows = flakes.map((f) => {
    const spread = [
      plural(f.prs.length, 'PR'),
      plural(f.builds, 'build'),
      f.passed_on_retry > 0 ? `${f.passed_on_retry} passed on retry` : '',
      baselineBranch !== null && f.main_builds > 0 ? `${f.main_builds} on ${escapeMarkdownText(baselineBranch)}` : '',
    ].filter((part) => part !== '');
    const seen =
      f.first_seen === f.last_seen || shortDay(f.first_seen) === shortDay(f.last_seen)
        ? shortDay(f.last_seen)
        : `${shortDay(f.first_seen)} – ${shortDay(f.last_seen)}`;
    return `| ${codeSpan(shorten(f.pattern), { inTable: true })} | **${VERDICT_LABELS[f.verdict]}** | ${spread.join(' · ')} | ${seen} |`;
  });
  for (const p of patterns)
    if (!matched.has(p)) rows.push(`| ${codeSpan(shorten(p), { inTable: true })} | no match | | |`);
  return ['| Pattern | Verdict | Spread | Seen |', '|---|---|---|---|', ...rows].join('\n');
}

function renderFlakeHeading(flake: Flake, prLink: (pr: string) => string): string {
  const prs =
    flake.prs.length === 0
      ? ''
      : ` · PRs ${flake.prs.slice(0, SHOWN_PRS).map(prLink).join(', ')}${flake.prs.length > SHOWN_PRS ? ` and ${flake.prs.length - SHOWN_PRS} more` : ''}`;
  const seen = ` · first seen ${shortDay(flake.first_seen)} (build ${flake.first_build}), last seen ${shortDay(flake.last_seen)} (build ${flake.last_build})`;
  return `### ${codeSpan(shorten(flake.pattern))}\n\n**${VERDICT_LABELS[flake.verdict]}**: ${escapeMarkdownText(flake.reason)}${prs}${seen}`;
}

/** One discovered signature: verdict and spread, an example with its links, and its regex. */
function renderCluster(c: Cluster, prLink: (pr: string) => string): string {
  const prs =
    c.prs.length === 0
      ? ''
      : ` · PRs ${c.prs.slice(0, SHOWN_PRS).map(prLink).join(', ')}${c.prs.length > SHOWN_PRS ? ` and ${c.prs.length - SHOWN_PRS} more` : ''}`;
  const e = c.example;
  return (
    `- ${codeSpan(shorten(c.signature))} (${escapeMarkdownText(c.kind)}): **${VERDICT_LABELS[c.verdict]}**, ${plural(c.builds, 'build')}${prs}, ` +
    `seen ${shortDay(c.first_seen)} to ${shortDay(c.last_seen)}. e.g. ${link(`build ${e.build_number}`, e.web_url)}, ` +
    `${link(shorten(e.step_label || 'job'), e.job_url)}, line ${e.line}\\\n  ${codeSpan(e.snippet)}\\\n  Pattern: ${codeSpan(shorten(c.pattern))}`
  );
}

/** One match: where (build, job, PR, branch, state, line) on a line, the snippet on the next. */
function renderMatchItem(match: MatchRecord, prLink: (pr: string) => string): string {
  const facts = [
    link(`build ${match.build_number}`, match.web_url),
    link(shorten(match.step_label || match.job_id), match.job_url),
    match.pull_request ? `PR ${prLink(match.pull_request)}` : '',
    codeSpan(shorten(match.branch)),
    escapeMarkdownText(match.job_state) + (match.retried ? ', retried' : ''),
    match.count > 1 ? `line ${match.line} (${match.count} lines)` : `line ${match.line}`,
  ].filter((part) => part !== '');
  return `- ${facts.join(' · ')}\\\n  ${codeSpan(match.snippet)}`;
}

function renderSettings(settings: ReportSettings): string {
  const rows: [string, string][] = [
    ['Pipeline', codeSpan(`${settings.org}/${settings.pipeline}`, { inTable: true })],
    ['Step contains', codeSpan(shorten(settings.step), { inTable: true })],
    ['Branch regex', codeSpan(shorten(settings.branchRegex), { inTable: true })],
    ['Builds examined', String(settings.maxBuilds)],
    ['Patterns', `${settings.patterns.length} (${settings.regex ? 'regular expressions' : 'literal text'})`],
  ];
  const table = ['| Setting | Value |', '|---|---|', ...rows.map(([name, value]) => `| ${name} | ${value} |`)].join(
    '\n',
  );
  return `<details><summary>Settings</summary>\n\n${table}\n\n</details>`;
}

function times(n: number): string {
  return n === 1 ? '1 time' : `${n} times`;
}

/** Keeps count of the bytes used against a limit; blocks join with a blank line. */
class Budget {
  private used = 0;

  constructor(private readonly limit: number) {}

  /** Counts a block regardless of the budget (it was reserved for). */
  force(block: string): void {
    this.used += bytes(block) + 2;
  }

  /** Counts a block if it fits; reports whether it did. */
  tryAdd(block: string): boolean {
    return this.tryReserve(bytes(block) + 2);
  }

  tryReserve(size: number): boolean {
    if (this.used + size > this.limit) return false;
    this.used += size;
    return true;
  }
}

function bytes(text: string): number {
  return Buffer.byteLength(text);
}

function shorten(text: string): string {
  return truncateBytes(text, SHOWN_TEXT_BYTES);
}
