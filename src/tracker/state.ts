// The tracker's memory across scheduled runs: per flake key (a pattern's text; later also a
// discovered signature), when it was first and last seen, how many builds and PRs it has hit
// in total, and whether it is still active. Each run's scan covers a short, moving window of
// builds, so a run's flakes are merged into what earlier runs found, never recomputed from the
// window: first_seen stays the earliest ever, totals only grow. Pure.
//
// Exact totals over overlapping windows. Two runs' windows share builds, so each flake keeps
// the build numbers and PR numbers it has counted: a window's build or PR is added to the total
// only when it is not counted yet. To keep the issue body small those sets are bounded: each
// keeps its highest `*_KEPT` keys and a `floor`, the highest key it let go. Every counted key
// above the floor is kept, so a key above the floor is counted exactly once; a key at or below
// the floor is taken as counted. Totals are therefore exact while a flake has hit at most that
// many builds (PRs), and otherwise a lower bound that misses only a late build (one finished
// after a later-numbered one was counted) or an old PR below the floor.
//
// One more limit: baseline-branch builds outside the branch filter are evidence in `flakes`
// but have no match records, so their numbers are unknown except the window's first and last
// build. They are counted when the whole window is newer than anything counted (always on the
// first run), and not at all when the window overlaps counted builds (they may be counted).

import type { Flake } from '../core/flakes.ts';
import type { MatchRecord } from '../core/types.ts';
import { VERDICTS, type Verdict } from '../core/verdict.ts';

/** The state format; a state with another version is not read (it is rebuilt from the run). */
export const TRACKER_STATE_VERSION = 1;

/** Runs without a match after which an active flake counts as resolved, unless set. */
export const DEFAULT_RESOLVE_AFTER = 3;

/** The latest builds kept per flake, for links. */
export const LAST_BUILDS_KEPT = 5;

/** Counted build numbers kept per flake; above this many, totals are a lower bound. */
export const BUILDS_KEPT = 40;

/** Counted PR numbers kept per flake; above this many, totals are a lower bound. */
export const PRS_KEPT = 40;

export type TrackerStatus = 'active' | 'resolved';

export interface TrackedBuild {
  readonly number: number;
  /** The build's Buildkite URL; null when only its number is known (baseline evidence). */
  readonly url: string | null;
}

/** The keys counted into a total: the highest ones, and the highest one let go (see top). */
export interface CountedKeys<K> {
  /** Ascending. */
  readonly kept: readonly K[];
  readonly floor: K | null;
}

/** One flake as the tracker remembers it. Snake_case: it is stored as JSON in the issue body. */
export interface TrackedFlake {
  /** The pattern's text (or a signature's): what identifies the flake across runs. */
  readonly key: string;
  /** The verdict of the latest run that matched it. */
  readonly verdict: Verdict;
  readonly status: TrackerStatus;
  /** Earliest `created_at` of a matching build ever (ISO 8601; '' when never known). */
  readonly first_seen: string;
  /** Latest `created_at` of a matching build ever. */
  readonly last_seen: string;
  /** When the current active spell began: first_seen, or the first match after resolving. */
  readonly active_since: string;
  /** The run that resolved it (its `runAt`), or null while active. */
  readonly resolved_at: string | null;
  /** Runs since the last one that matched it. */
  readonly quiet_runs: number;
  /** Distinct builds with a match, over every run (see top for exactness). */
  readonly builds_seen: number;
  /** Distinct PRs with a matched attempt that did not pass, over every run. */
  readonly prs_seen: number;
  /** Attempts that failed and passed on retry, in the latest run that matched it. */
  readonly passed_on_retry: number;
  /** Newest first, at most LAST_BUILDS_KEPT. */
  readonly last_builds: readonly TrackedBuild[];
  readonly counted_builds: CountedKeys<number>;
  readonly counted_prs: CountedKeys<string>;
}

export interface TrackerState {
  readonly version: typeof TRACKER_STATE_VERSION;
  /** Sorted by key, so an unchanged state serializes to the same text. */
  readonly flakes: readonly TrackedFlake[];
}

/** What one run contributes. */
export interface TrackerRun {
  readonly flakes: readonly Flake[];
  readonly matches: readonly Pick<MatchRecord, 'build_number' | 'web_url' | 'pattern'>[];
  /** When the run happened (ISO 8601): it dates a resolution. */
  readonly runAt: string;
  /** Runs without a match after which an active flake is resolved; a whole number ≥ 1. */
  readonly resolveAfter: number;
}

/**
 * Merges one run into the state of the runs before it (null for the first run). A flake the run
 * matched is active with no quiet runs; one it did not match gets a quiet run and is resolved
 * once it has `resolveAfter` of them.
 */
export function mergeRun(previous: TrackerState | null, run: TrackerRun): TrackerState {
  if (!Number.isInteger(run.resolveAfter) || run.resolveAfter < 1) {
    throw new RangeError(`resolveAfter must be a whole number from 1, got ${run.resolveAfter}`);
  }
  const before = new Map((previous?.flakes ?? []).map((f) => [f.key, f]));
  const builds = buildsByPattern(run.matches);
  const merged = new Map<string, TrackedFlake>();
  for (const flake of run.flakes) {
    const old = before.get(flake.pattern) ?? null;
    merged.set(flake.pattern, mergeMatched(old, flake, builds.get(flake.pattern) ?? [], run.runAt));
  }
  for (const [key, old] of before) {
    if (!merged.has(key)) merged.set(key, mergeQuiet(old, run));
  }
  return { version: TRACKER_STATE_VERSION, flakes: [...merged.values()].sort((a, b) => compareText(a.key, b.key)) };
}

function mergeMatched(
  old: TrackedFlake | null,
  flake: Flake,
  builds: readonly TrackedBuild[],
  runAt: string,
): TrackedFlake {
  const known = new Set(builds.map((b) => b.number));
  for (const n of [flake.first_build, flake.last_build]) if (Number.isFinite(n)) known.add(n);
  let countedBuilds = old?.counted_builds ?? { kept: [], floor: null };
  const newBuilds = [...known].filter((n) => !isCounted(countedBuilds, n, compareNumbers));
  const unknown = Math.max(0, flake.builds - known.size);
  // Builds known by count only lie between the window's first and last: they are new when all
  // of the window is.
  const highest = highestCounted(countedBuilds);
  const unknownNew = highest === null || flake.first_build > highest ? unknown : 0;
  countedBuilds = addCounted(countedBuilds, newBuilds, BUILDS_KEPT, compareNumbers);
  // Numbers not kept must not sit above the floor: raise it past the window.
  if (unknownNew > 0) countedBuilds = raiseFloor(countedBuilds, flake.last_build, compareNumbers);

  const countedPrs = old?.counted_prs ?? { kept: [], floor: null };
  const newPrs = [...new Set(flake.prs)].filter((pr) => !isCounted(countedPrs, pr, comparePrs));

  const reactivated = old === null || old.status === 'resolved';
  return {
    key: flake.pattern,
    verdict: flake.verdict,
    status: 'active',
    first_seen: earliest(old?.first_seen ?? '', flake.first_seen),
    last_seen: latest(old?.last_seen ?? '', flake.last_seen),
    active_since: reactivated ? flake.first_seen || runAt : old.active_since,
    resolved_at: null,
    quiet_runs: 0,
    builds_seen: (old?.builds_seen ?? 0) + newBuilds.length + unknownNew,
    prs_seen: (old?.prs_seen ?? 0) + newPrs.length,
    passed_on_retry: flake.passed_on_retry,
    // A baseline build outside the branch filter has no match record, hence no URL.
    last_builds: latestBuilds([...builds, { number: flake.last_build, url: null }, ...(old?.last_builds ?? [])]),
    counted_builds: countedBuilds,
    counted_prs: addCounted(countedPrs, newPrs, PRS_KEPT, comparePrs),
  };
}

function mergeQuiet(old: TrackedFlake, run: TrackerRun): TrackedFlake {
  const quietRuns = old.quiet_runs + 1;
  const resolves = old.status === 'active' && quietRuns >= run.resolveAfter;
  return {
    ...old,
    quiet_runs: quietRuns,
    status: resolves ? 'resolved' : old.status,
    resolved_at: resolves ? run.runAt : old.resolved_at,
  };
}

/** Per pattern, its matched builds with their URLs, newest first. */
function buildsByPattern(matches: TrackerRun['matches']): Map<string, TrackedBuild[]> {
  const byPattern = new Map<string, Map<number, TrackedBuild>>();
  for (const m of matches) {
    let builds = byPattern.get(m.pattern);
    if (!builds) byPattern.set(m.pattern, (builds = new Map()));
    if (!builds.has(m.build_number)) builds.set(m.build_number, { number: m.build_number, url: m.web_url || null });
  }
  const newestFirst = (builds: Map<number, TrackedBuild>) => [...builds.values()].sort((a, b) => b.number - a.number);
  return new Map([...byPattern].map(([pattern, builds]) => [pattern, newestFirst(builds)]));
}

/** The newest LAST_BUILDS_KEPT distinct builds; per number, the first entry with a URL wins. */
function latestBuilds(builds: readonly TrackedBuild[]): TrackedBuild[] {
  const byNumber = new Map<number, TrackedBuild>();
  for (const b of builds) {
    const seen = byNumber.get(b.number);
    if (!seen || (seen.url === null && b.url !== null)) byNumber.set(b.number, b);
  }
  return [...byNumber.values()].sort((a, b) => b.number - a.number).slice(0, LAST_BUILDS_KEPT);
}

function isCounted<K>(counted: CountedKeys<K>, key: K, compare: Compare<K>): boolean {
  if (counted.floor !== null && compare(key, counted.floor) <= 0) return true;
  return counted.kept.some((k) => compare(k, key) === 0);
}

function highestCounted<K>(counted: CountedKeys<K>): K | null {
  return counted.kept[counted.kept.length - 1] ?? counted.floor;
}

/** Adds keys (not counted yet) and lets the lowest go beyond `limit`, raising the floor. */
function addCounted<K>(
  counted: CountedKeys<K>,
  keys: readonly K[],
  limit: number,
  compare: Compare<K>,
): CountedKeys<K> {
  if (keys.length === 0) return counted;
  const all = [...counted.kept, ...keys].sort(compare);
  const dropped = all.length - limit;
  if (dropped <= 0) return { kept: all, floor: counted.floor };
  const highestDropped = all[dropped - 1]!;
  const floor = counted.floor === null || compare(highestDropped, counted.floor) > 0 ? highestDropped : counted.floor;
  return { kept: all.slice(dropped), floor };
}

function raiseFloor<K>(counted: CountedKeys<K>, floor: K, compare: Compare<K>): CountedKeys<K> {
  if (counted.floor !== null && compare(counted.floor, floor) >= 0) return counted;
  return { kept: counted.kept.filter((k) => compare(k, floor) > 0), floor };
}

type Compare<K> = (a: K, b: K) => number;

function compareNumbers(a: number, b: number): number {
  return a - b;
}

/** PR numbers in numeric order (they are digit strings; anything else sorts after, by text). */
function comparePrs(a: string, b: string): number {
  const x = /^\d+$/.test(a);
  const y = /^\d+$/.test(b);
  if (x && y) return Number(a) - Number(b) || compareText(a, b);
  if (x !== y) return x ? -1 : 1;
  return compareText(a, b);
}

function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** The earlier of two ISO times, ignoring '' and times that do not parse. */
function earliest(a: string, b: string): string {
  return pickTime(a, b, (x, y) => x <= y);
}

function latest(a: string, b: string): string {
  return pickTime(a, b, (x, y) => x >= y);
}

function pickTime(a: string, b: string, firstWins: (x: number, y: number) => boolean): string {
  const x = Date.parse(a);
  const y = Date.parse(b);
  if (Number.isNaN(x)) return Number.isNaN(y) ? a || b : b;
  if (Number.isNaN(y)) return a;
  return firstWins(x, y) ? a : b;
}

/** The shape the report file's `tracker` field has. */
export interface TrackerSummary {
  readonly issue: number | null;
  readonly flakes: readonly {
    readonly pattern: string;
    readonly first_seen: string;
    readonly last_seen: string;
    readonly quiet_runs: number;
    readonly status: TrackerStatus;
  }[];
}

/** The state as the report file shows it: what a downstream job needs, not the bookkeeping. */
export function summarizeTracker(state: TrackerState, issue: number | null): TrackerSummary {
  return {
    issue,
    flakes: state.flakes.map((f) => ({
      pattern: f.key,
      first_seen: f.first_seen,
      last_seen: f.last_seen,
      quiet_runs: f.quiet_runs,
      status: f.status,
    })),
  };
}

/**
 * Reads a state from parsed JSON. Throws an Error naming the first thing wrong: the state lives
 * in an issue body that people can edit, and in a file they can too.
 */
export function parseState(value: unknown): TrackerState {
  const root = record(value, 'the state');
  if (root.version !== TRACKER_STATE_VERSION) {
    const version = JSON.stringify(root.version) ?? 'none';
    throw new Error(`the state has version ${version}, this flake-checker reads version ${TRACKER_STATE_VERSION}`);
  }
  if (!Array.isArray(root.flakes)) throw new Error('the state has no `flakes` list');
  const keys = new Set<string>();
  const flakes = root.flakes.map((item: unknown, i) => {
    const flake = parseFlake(item, `flakes[${i}]`);
    if (keys.has(flake.key)) throw new Error(`flakes[${i}] repeats the key ${JSON.stringify(flake.key)}`);
    keys.add(flake.key);
    return flake;
  });
  return { version: TRACKER_STATE_VERSION, flakes: flakes.sort((a, b) => compareText(a.key, b.key)) };
}

function parseFlake(value: unknown, where: string): TrackedFlake {
  const f = record(value, where);
  const verdict = f.verdict;
  if (typeof verdict !== 'string' || !(VERDICTS as readonly string[]).includes(verdict)) {
    throw new Error(`${where}.verdict must be one of ${VERDICTS.join(', ')}`);
  }
  if (f.status !== 'active' && f.status !== 'resolved') throw new Error(`${where}.status must be active or resolved`);
  if (!Array.isArray(f.last_builds)) throw new Error(`${where}.last_builds must be a list`);
  return {
    key: text(f.key, `${where}.key`),
    verdict: verdict as Verdict,
    status: f.status,
    first_seen: text(f.first_seen, `${where}.first_seen`),
    last_seen: text(f.last_seen, `${where}.last_seen`),
    active_since: text(f.active_since, `${where}.active_since`),
    resolved_at: f.resolved_at === null ? null : text(f.resolved_at, `${where}.resolved_at`),
    quiet_runs: count(f.quiet_runs, `${where}.quiet_runs`),
    builds_seen: count(f.builds_seen, `${where}.builds_seen`),
    prs_seen: count(f.prs_seen, `${where}.prs_seen`),
    passed_on_retry: count(f.passed_on_retry, `${where}.passed_on_retry`),
    last_builds: f.last_builds.map((item: unknown, i) => {
      const at = `${where}.last_builds[${i}]`;
      const b = record(item, at);
      return { number: count(b.number, `${at}.number`), url: b.url === null ? null : text(b.url, `${at}.url`) };
    }),
    counted_builds: countedKeys(f.counted_builds, `${where}.counted_builds`, count, compareNumbers),
    counted_prs: countedKeys(f.counted_prs, `${where}.counted_prs`, text, comparePrs),
  };
}

function countedKeys<K>(
  value: unknown,
  where: string,
  read: (v: unknown, where: string) => K,
  compare: Compare<K>,
): CountedKeys<K> {
  const c = record(value, where);
  if (!Array.isArray(c.kept)) throw new Error(`${where}.kept must be a list`);
  const kept = c.kept.map((v: unknown, i) => read(v, `${where}.kept[${i}]`)).sort(compare);
  return { kept, floor: c.floor === null ? null : read(c.floor, `${where}.floor`) };
}

function record(value: unknown, where: string): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new Error(`${where} must be an object`);
  }
  return value as Record<string, unknown>;
}

function text(value: unknown, where: string): string {
  if (typeof value !== 'string') throw new Error(`${where} must be text`);
  return value;
}

function count(value: unknown, where: string): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) {
    throw new Error(`${where} must be a whole number ≥ 0`);
  }
  return value;
}
