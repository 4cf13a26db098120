// Rendering a scan report as GitHub markdown, for the job summary and the PR comment. Pure:
// report and settings in, a string out. Both destinations have a hard size limit (1 MiB per
// step summary, 65,536 characters per comment), so the renderer works to a byte budget and,
// when the matches do not fit, leaves out the rest with a note saying where the full list is.
//
// Every value from Buildkite is hostile text and goes through src/report/escape.ts.

import { countFailureReasons, summarizeByPattern, type PatternSummary } from '../core/aggregate.ts';
import type { LogFailure, MatchRecord, ScanReport } from '../core/types.ts';
import type { Settings } from '../settings.ts';
import { codeSpan, escapeMarkdownText, link, truncateBytes } from './escape.ts';
import { logsNotFetched, plural } from './messages.ts';

/** The settings the report shows: what was scanned, never the token. */
export type ReportSettings = Pick<Settings, 'org' | 'pipeline' | 'step' | 'branchRegex' | 'maxBuilds' | 'patterns' | 'regex'>;

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
}

/** Long user-given texts (patterns, regexes, labels) are shown cut to this many bytes. */
const SHOWN_TEXT_BYTES = 300;
/** At most this many distinct failure reasons are listed; the count covers all of them. */
const SHOWN_FAILURE_REASONS = 10;

/** Renders the report; the result is at most `options.maxBytes` bytes of UTF-8. */
export function renderReport(report: ScanReport, settings: ReportSettings, options: RenderOptions): string {
  const summaries = summarizeByPattern(report.matches, settings.patterns);
  const head = [options.prefix ?? '', renderTitle(settings), renderCounts(report, settings), renderFailures(report.failures)]
    .filter((part) => part !== '')
    .join('\n\n');
  const tail = [renderSettings(settings), options.footer ?? ''].filter((part) => part !== '').join('\n\n');

  // The note is sized for the largest numbers it can hold, so reserving it up front is enough.
  const total = report.matches.length;
  const note = (shown: number): string =>
    `> [!NOTE]\n> Cut to stay under GitHub's size limit: ${shown} of ${total} matches are shown. ` +
    `The complete list is in ${options.fullReportHint}.`;
  const reserve = bytes(note(total)) + bytes(tail) + 8;

  const out = new Budget(options.maxBytes - reserve);
  out.force(head);
  let shown = 0;
  let cut = false;
  if (total > 0) {
    // Every pattern searched for is listed, so a reader sees what came back empty too.
    cut = !out.tryAdd(renderPatternTable(summaries));
    for (const summary of summaries) {
      if (cut) break;
      if (summary.matches.length === 0) continue;
      const rows = summary.matches.map(renderMatchRow);
      // A section starts only if its heading, table header and first row fit together.
      if (!out.tryAdd(`${renderPatternHeading(summary)}\n\n${MATCH_TABLE_HEADER}\n${rows[0]}`)) {
        cut = true;
        break;
      }
      shown += 1;
      for (const row of rows.slice(1)) {
        if (!out.tryAddLine(row)) {
          cut = true;
          break;
        }
        shown += 1;
      }
    }
  }
  if (cut) out.force(note(shown));
  out.force(tail);
  // The head is forced in; with absurd inputs (a thousand long patterns in a tiny budget) the
  // result could still exceed the limit, and a cut document beats a refused one.
  return truncateBytes(out.text(), options.maxBytes);
}

/** The job summary of a run that could not complete: why, in one paragraph. */
export function renderRunFailure(message: string): string {
  return `### flake-checker failed\n\n${escapeMarkdownText(truncateBytes(message, 2000))}\n`;
}

function renderTitle(settings: ReportSettings): string {
  return `## Flake check: ${codeSpan(`${settings.org}/${settings.pipeline}`)}, step ${codeSpan(shorten(settings.step))}`;
}

function renderCounts(report: ScanReport, settings: ReportSettings): string {
  const { stats } = report;
  const matches = report.matches.length;
  const verdict =
    matches === 0
      ? `**No matches** for ${plural(settings.patterns.length, 'pattern')} in the latest scan.`
      : `**${plural(matches, 'match', 'matches')}** in ${plural(new Set(report.matches.map((m) => m.build_number)).size, 'build')}.`;
  const extras = [
    stats.logs_missing > 0 ? `${stats.logs_missing} missing (expired or never written)` : '',
    stats.logs_failed > 0 ? `${stats.logs_failed} not fetched` : '',
    stats.logs_from_cache > 0 ? `${stats.logs_from_cache} from cache` : '',
  ].filter((part) => part !== '');
  return (
    `${verdict}\n\n` +
    `Scanned the ${plural(stats.builds_scanned, 'most recent build')} ` +
    `(${stats.builds_matched_branch} on branches matching ${codeSpan(shorten(settings.branchRegex))}): ` +
    `${plural(stats.jobs_selected, 'job')} selected, ${plural(stats.jobs_scanned, 'log')} scanned` +
    (extras.length > 0 ? ` (${extras.join(', ')})` : '') +
    '.'
  );
}

function renderFailures(failures: readonly LogFailure[]): string {
  if (failures.length === 0) return '';
  const reasons = countFailureReasons(failures);
  const lines = reasons
    .slice(0, SHOWN_FAILURE_REASONS)
    .map(([reason, count]) => `> - ${count} × ${escapeMarkdownText(shorten(reason))}`);
  if (reasons.length > SHOWN_FAILURE_REASONS) lines.push(`> - and ${reasons.length - SHOWN_FAILURE_REASONS} other reasons`);
  return `> [!WARNING]\n> ${logsNotFetched(failures.length)}; matches in them are missing:\n${lines.join('\n')}`;
}

function renderPatternTable(summaries: readonly PatternSummary[]): string {
  const rows = summaries.map((s) => {
    const cells = [s.matches.length, s.builds, s.pullRequests.length, s.retriedAttempts, s.likelyFlaky ? 'likely flaky' : ''];
    return `| ${codeSpan(shorten(s.pattern), { inTable: true })} | ${cells.join(' | ')} |`;
  });
  return ['| Pattern | Matches | Builds | PRs | Retried attempts | Verdict |', '|---|--:|--:|--:|--:|---|', ...rows].join('\n');
}

function renderPatternHeading(summary: PatternSummary): string {
  const prs = summary.pullRequests.map((pr) => `#${pr}`);
  const facts = [
    plural(summary.matches.length, 'match', 'matches'),
    `in ${plural(summary.builds, 'build')}`,
    prs.length > 0 ? `PRs ${escapeMarkdownText(shortList(prs))}` : '',
    summary.likelyFlaky ? '**likely flaky**' : '',
  ].filter((part) => part !== '');
  return `### ${codeSpan(shorten(summary.pattern))}\n\n${facts.join(' · ')}`;
}

const MATCH_TABLE_HEADER = '| Build | Job | Branch / PR | Job state | Line | Snippet |\n|--:|---|---|---|--:|---|';

function renderMatchRow(match: MatchRecord): string {
  const build = link(String(match.build_number), match.web_url);
  const job = link(shorten(match.step_label || match.job_id), match.job_url);
  const branch = codeSpan(shorten(match.branch), { inTable: true }) + (match.pull_request ? ` · PR ${escapeMarkdownText(`#${match.pull_request}`)}` : '');
  const state = escapeMarkdownText(match.job_state) + (match.retried ? ' · retried' : '');
  const line = match.count > 1 ? `${match.line} (${match.count} lines)` : String(match.line);
  const snippet = codeSpan(match.snippet, { inTable: true });
  return `| ${build} | ${job} | ${branch} | ${state} | ${line} | ${snippet} |`;
}

function renderSettings(settings: ReportSettings): string {
  const rows: [string, string][] = [
    ['Pipeline', codeSpan(`${settings.org}/${settings.pipeline}`, { inTable: true })],
    ['Step contains', codeSpan(shorten(settings.step), { inTable: true })],
    ['Branch regex', codeSpan(shorten(settings.branchRegex), { inTable: true })],
    ['Builds examined', String(settings.maxBuilds)],
    ['Patterns', `${settings.patterns.length} (${settings.regex ? 'regular expressions' : 'literal text'})`],
  ];
  const table = ['| Setting | Value |', '|---|---|', ...rows.map(([name, value]) => `| ${name} | ${value} |`)].join('\n');
  return `<details><summary>Settings</summary>\n\n${table}\n\n</details>`;
}

/** Accumulates blocks (joined by a blank line) and table rows while they fit a byte budget. */
class Budget {
  private readonly parts: string[] = [];
  private used = 0;

  constructor(private readonly limit: number) {}

  /** Adds a block regardless of the budget (it was reserved for). */
  force(block: string): void {
    if (block === '') return;
    this.used += bytes(block) + (this.parts.length > 0 ? 2 : 0);
    this.parts.push(block);
  }

  /** Adds a block if it fits; reports whether it did. */
  tryAdd(block: string): boolean {
    const cost = bytes(block) + (this.parts.length > 0 ? 2 : 0);
    if (this.used + cost > this.limit) return false;
    this.force(block);
    return true;
  }

  /** Appends a line to the last block (a table row) if it fits. */
  tryAddLine(line: string): boolean {
    const cost = bytes(line) + 1;
    if (this.used + cost > this.limit || this.parts.length === 0) return false;
    this.parts[this.parts.length - 1] += `\n${line}`;
    this.used += cost;
    return true;
  }

  text(): string {
    return `${this.parts.join('\n\n')}\n`;
  }
}

function bytes(text: string): number {
  return Buffer.byteLength(text);
}

function shorten(text: string): string {
  return truncateBytes(text, SHOWN_TEXT_BYTES);
}

function shortList(items: readonly string[], max = 10): string {
  return items.length <= max ? items.join(', ') : `${items.slice(0, max).join(', ')} and ${items.length - max} more`;
}
