// The tracker issue's body: a block the tool manages between two hidden markers (the tables a
// person reads and the state the next run reads back), with whatever people write above or
// below it kept as is. Pure: text in, text out.

import { createHash } from 'node:crypto';
import { codeSpan, escapeMarkdownText, link, truncateBytes } from '../report/escape.ts';
import type { Verdict } from '../core/verdict.ts';
import { parseState, type TrackedFlake, type TrackerState } from './state.ts';

/** GitHub refuses issue bodies longer than this many characters (422). */
export const ISSUE_BODY_MAX_CHARS = 65_536;

const BEGIN = '<!-- flake-checker:tracker:begin';
const END = '<!-- flake-checker:tracker:end -->';
const STATE = '<!-- flake-checker:tracker:state';
const COMMENT_END = '-->';

/** Patterns are shown cut to this many bytes; the state keeps them whole. */
const SHOWN_PATTERN_BYTES = 120;

const VERDICT_LABELS: Record<Verdict, string> = {
  flaky: 'flaky',
  'broken-main': 'broken on main',
  single: 'single PR',
  noise: 'noise',
};

/** What one tracker follows: a step of a pipeline. */
export interface TrackedStep {
  readonly org: string;
  readonly pipeline: string;
  readonly step: string;
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/**
 * What names one tracker: `org/pipeline/hash`. The step label is free text, so it enters as a
 * hash, lower-cased as the step filter matches it (changing only its case keeps the tracker).
 */
export function trackerId(settings: TrackedStep): string {
  const stepHash = createHash('sha256').update(settings.step.toLowerCase()).digest('hex').slice(0, 12);
  return `${settings.org}/${settings.pipeline}/${stepHash}`;
}

/** The start of the block's first line: what finds the tracker's issue again. */
export function trackerMarker(id: string): string {
  return `${BEGIN} ${id} `;
}

export interface TrackerBodyOptions {
  /** trackerId() of the tracker. */
  readonly id: string;
  /** Runs without a match after which a flake is resolved, for the explanation. */
  readonly resolveAfter: number;
  /** Text around the block, kept verbatim (parseBody's `outside`); none for a new issue. */
  readonly outside?: { readonly before: string; readonly after: string };
  /** Why the saved state could not be read; shown in the body of this run only. */
  readonly problem?: string | null;
  /** The body limit, for tests; GitHub's by default. */
  readonly maxChars?: number;
}

export interface RenderedTrackerBody {
  readonly body: string;
  /** The state saved in the body: the one given, less what had to be dropped for the limit. */
  readonly state: TrackerState;
  /** What the limit cut, one sentence each, for the log. */
  readonly notes: readonly string[];
}

/**
 * The body: text before, the managed block, text after. At most `maxChars` characters unless
 * the text outside the block alone leaves no room: rows are cut first (with a note); the state
 * is never cut, but when it alone is too big the flakes resolved longest ago are dropped from it,
 * then, as a last resort, the active ones seen longest ago, and the body says so.
 */
export function renderBody(state: TrackerState, options: TrackerBodyOptions): RenderedTrackerBody {
  const max = options.maxChars ?? ISSUE_BODY_MAX_CHARS;
  const outside = options.outside ?? { before: '', after: '' };
  const frame = (stored: TrackerState, rows: Rows, notes: readonly string[]) =>
    assemble(stored, rows, notes, options, outside);

  // The state first: drop whole entries, oldest first, until the body without rows fits with
  // room for the longest notes. Each entry's share of the JSON is known, so the count comes
  // from sizes; the loop after it only checks the result.
  const reserve = cutNote(9999, 9999).length + droppedNote(9999, 9999).length + 4;
  const order = dropOrder(state.flakes);
  let over = frame(state, EMPTY_ROWS, []).length + reserve - max;
  let dropped = 0;
  while (over > 0 && dropped < order.length) over -= serializeState(order[dropped++]!).length + 1;
  let stored = withoutFirst(state, order, dropped);
  while (dropped < order.length && frame(stored, EMPTY_ROWS, []).length + reserve > max) {
    stored = withoutFirst(state, order, ++dropped);
  }
  const droppedResolved = order.slice(0, dropped).filter((f) => f.status === 'resolved').length;
  const notes = dropped > 0 ? [droppedNote(droppedResolved, dropped - droppedResolved)] : [];

  // Then the rows: as many as fit, active first.
  const all = tableRows(stored);
  const base = frame(stored, EMPTY_ROWS, [...notes, cutNote(9999, 9999)]).length;
  let room = max - base - TABLE_HEADERS.length;
  const shown: Rows = { active: [], resolved: [] };
  // Resolved rows only once every active one is in.
  fill: for (const kind of ['active', 'resolved'] as const) {
    for (const row of all[kind]) {
      if (row.length + 1 > room) break fill;
      shown[kind].push(row);
      room -= row.length + 1;
    }
  }
  const cut = (rows: Rows) => {
    const active = all.active.length - rows.active.length;
    const resolved = all.resolved.length - rows.resolved.length;
    return active + resolved > 0 ? [...notes, cutNote(active, resolved)] : notes;
  };
  let body = frame(stored, shown, cut(shown));
  // The estimate above is generous; this only guards the edge.
  while (body.length > max && (shown.resolved.length > 0 || shown.active.length > 0)) {
    (shown.resolved.length > 0 ? shown.resolved : shown.active).pop();
    body = frame(stored, shown, cut(shown));
  }
  return { body, state: stored, notes: cut(shown) };
}

function withoutFirst(state: TrackerState, order: readonly TrackedFlake[], count: number): TrackerState {
  if (count === 0) return state;
  const gone = new Set(order.slice(0, count));
  return { ...state, flakes: state.flakes.filter((f) => !gone.has(f)) };
}

interface Rows {
  active: string[];
  resolved: string[];
}

const EMPTY_ROWS: Rows = { active: [], resolved: [] };
const ACTIVE_HEADER =
  '| Pattern | Verdict | Seen in | First – last seen | Active for | Latest builds |\n|---|---|---|---|---|---|';
const RESOLVED_HEADER = '| Pattern | Verdict | Seen in | First – last seen | Resolved |\n|---|---|---|---|---|';
const TABLE_HEADERS = ACTIVE_HEADER + RESOLVED_HEADER;

function assemble(
  state: TrackerState,
  rows: Rows,
  notes: readonly string[],
  options: TrackerBodyOptions,
  outside: { readonly before: string; readonly after: string },
): string {
  const active = state.flakes.filter((f) => f.status === 'active');
  const resolved = state.flakes.length - active.length;
  const explanation =
    `**${plural(active.length, 'active flake')}** · ${resolved} resolved. A flake is resolved after ` +
    `${plural(options.resolveAfter, 'run')} without a match, and active again on its next one.`;
  const blocks = [
    `${trackerMarker(options.id)}(rewritten on every run: write above or below this block) ${COMMENT_END}`,
    ...(options.problem ? [renderProblem(options.problem)] : []),
    explanation,
    '## Active',
    table(ACTIVE_HEADER, rows.active, active.length, 'No active flakes.'),
    '## Resolved',
    table(RESOLVED_HEADER, rows.resolved, resolved, 'None yet.'),
    ...notes.map((note) => `> [!NOTE]\n> ${note}`),
    '<sub>PRs and builds: totals over every run. Passed on retry: in the latest run that matched.</sub>',
    `${STATE} ${serializeState(state)} ${COMMENT_END}`,
    END,
  ];
  return `${outside.before}${blocks.join('\n\n')}${outside.after}`;
}

function renderProblem(problem: string): string {
  return `> [!WARNING]\n> ${escapeMarkdownText(truncateBytes(problem, 500))}: the tracker starts again from this run.`;
}

function table(header: string, rows: readonly string[], total: number, empty: string): string {
  if (total === 0) return empty;
  return rows.length === 0 ? 'Not shown: see the note below.' : `${header}\n${rows.join('\n')}`;
}

/** Which entries leave the state first when it is too big. */
function dropOrder(flakes: readonly TrackedFlake[]): TrackedFlake[] {
  const byTime = (a: string | null, b: string | null) => (a ?? '').localeCompare(b ?? '');
  const resolved = flakes.filter((f) => f.status === 'resolved').sort((a, b) => byTime(a.resolved_at, b.resolved_at));
  const active = flakes.filter((f) => f.status === 'active').sort((a, b) => byTime(a.last_seen, b.last_seen));
  return [...resolved, ...active];
}

function droppedNote(resolved: number, active: number): string {
  const what = both(
    resolved > 0 ? `${plural(resolved, 'resolved flake')} (resolved longest ago)` : '',
    active > 0 ? `${plural(active, 'active flake')} (seen longest ago)` : '',
  );
  const was = resolved + active === 1 ? 'was' : 'were';
  return `The saved state was too big for an issue body (${LIMIT} characters): ${what} ${was} dropped from it.`;
}

function cutNote(active: number, resolved: number): string {
  const what = both(
    active > 0 ? plural(active, 'active flake') : '',
    resolved > 0 ? plural(resolved, 'resolved flake') : '',
  );
  return `${what} not shown: an issue body holds ${LIMIT} characters. The saved state keeps them.`;
}

const LIMIT = ISSUE_BODY_MAX_CHARS.toLocaleString('en-US');

function both(a: string, b: string): string {
  return [a, b].filter(Boolean).join(' and ');
}

/** Active flakes by spread (PRs, then builds), then latest seen; resolved ones latest first. */
function tableRows(state: TrackerState): Rows {
  const year = latestYear(state.flakes);
  const active = state.flakes
    .filter((f) => f.status === 'active')
    .sort((a, b) => b.prs_seen - a.prs_seen || b.builds_seen - a.builds_seen || b.last_seen.localeCompare(a.last_seen));
  const resolved = state.flakes
    .filter((f) => f.status === 'resolved')
    .sort((a, b) => (b.resolved_at ?? '').localeCompare(a.resolved_at ?? ''));
  const cells = (f: TrackedFlake) => [
    codeSpan(truncateBytes(f.key, SHOWN_PATTERN_BYTES), { inTable: true }),
    `**${VERDICT_LABELS[f.verdict]}**`,
    [
      plural(f.prs_seen, 'PR'),
      plural(f.builds_seen, 'build'),
      f.passed_on_retry > 0 ? `${f.passed_on_retry} passed on retry` : '',
    ]
      .filter(Boolean)
      .join(' · '),
    span(f.first_seen, f.last_seen, year),
  ];
  return {
    active: active.map((f) => {
      const quiet = f.quiet_runs > 0 ? ` · quiet for ${plural(f.quiet_runs, 'run')}` : '';
      const builds = f.last_builds.map((b) => link(String(b.number), b.url)).join(' ');
      return `| ${[...cells(f), duration(f.active_since, f.last_seen) + quiet, builds].join(' | ')} |`;
    }),
    resolved: resolved.map((f) => {
      const when = `${day(f.resolved_at ?? '', year)} · quiet for ${plural(f.quiet_runs, 'run')}`;
      return `| ${[...cells(f), when].join(' | ')} |`;
    }),
  };
}

/** `Nov 2 – Nov 20`, or one day. */
function span(first: string, last: string, year: number): string {
  const a = day(first, year);
  const b = day(last, year);
  return a === b || a === '' ? b : b === '' ? a : `${a} – ${b}`;
}

/** `Nov 20` (UTC), with the year when it is not the tracker's latest year; '' when unknown. */
function day(iso: string, year: number): string {
  const date = new Date(iso);
  if (iso === '' || Number.isNaN(date.getTime())) return '';
  const text = `${MONTHS[date.getUTCMonth()]} ${date.getUTCDate()}`;
  return date.getUTCFullYear() === year ? text : `${text}, ${date.getUTCFullYear()}`;
}

function latestYear(flakes: readonly TrackedFlake[]): number {
  const times = flakes.map((f) => Date.parse(f.last_seen)).filter((t) => !Number.isNaN(t));
  return times.length === 0 ? 0 : new Date(Math.max(...times)).getUTCFullYear();
}

/** From the start of the active spell to the latest match: `<1 day`, `1 day`, `18 days`. */
function duration(from: string, to: string): string {
  const ms = Date.parse(to) - Date.parse(from);
  if (Number.isNaN(ms) || ms < 0) return '–';
  const days = Math.floor(ms / 86_400_000);
  return days === 0 ? '<1 day' : plural(days, 'day');
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

/**
 * The state as the text of an HTML comment: JSON with `<`, `>` and `&` as \u escapes, so no
 * pattern text can end the comment (`-->`, `--!>`) or open markup.
 */
function serializeState(state: TrackerState | TrackedFlake): string {
  return JSON.stringify(state).replace(/[<>&]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

export interface ParsedTrackerBody {
  /** The saved state, or null when there is none or it cannot be read. */
  readonly state: TrackerState | null;
  /** Why a block that is there could not be read (a hand edit, a cut body), or null. */
  readonly problem: string | null;
  /** What people wrote around the block, verbatim. All of the body when there is no block. */
  readonly outside: { readonly before: string; readonly after: string };
}

/** Reads a body renderBody wrote, perhaps edited since. Never throws. */
export function parseBody(body: string): ParsedTrackerBody {
  const begin = body.indexOf(BEGIN);
  if (begin < 0) return { state: null, problem: null, outside: { before: body, after: '' } };
  const before = body.slice(0, begin);
  const beginEnd = body.indexOf(COMMENT_END, begin);
  const end = beginEnd < 0 ? -1 : body.indexOf(END, beginEnd);
  if (end < 0) {
    // Where the block ends is unknown: what follows its start is taken for the block.
    return { state: null, problem: 'the end marker of the tracker block is missing', outside: { before, after: '' } };
  }
  const outside = { before, after: body.slice(end + END.length) };
  const block = body.slice(beginEnd, end);
  const start = block.indexOf(STATE);
  const stop = start < 0 ? -1 : block.indexOf(COMMENT_END, start);
  if (stop < 0) return { state: null, problem: 'the saved state is missing from the tracker block', outside };
  let json: unknown;
  try {
    json = JSON.parse(block.slice(start + STATE.length, stop));
  } catch (error: unknown) {
    return { state: null, problem: `the saved state is not valid JSON (${describe(error)})`, outside };
  }
  try {
    return { state: parseState(json), problem: null, outside };
  } catch (error: unknown) {
    return { state: null, problem: `the saved state cannot be used: ${describe(error)}`, outside };
  }
}

function describe(error: unknown): string {
  return (error instanceof Error ? error.message : String(error)).split('\n')[0] ?? '';
}
