// One Settings object for the CLI and the action. Both entry points gather raw strings (flag or
// input, then the BK_* environment variable, then the default) and call parseSettings, which
// validates everything once and names the input, the value and what is allowed on failure.

import { BUILTIN_PATTERNS } from './core/builtin-patterns.ts';
import { compilePatterns, riskyPatternWarnings, type CompiledPattern } from './core/patterns.ts';

/** The patterns used when none are given (regular expressions). */
export const DEFAULT_PATTERNS: readonly string[] = BUILTIN_PATTERNS;

/** Buildkite job states a user may filter on (docs/buildkite-api.md, "Job fields"). */
export const JOB_STATES: readonly string[] = [
  'pending',
  'waiting',
  'blocked',
  'unblocked',
  'scheduled',
  'assigned',
  'accepted',
  'running',
  'passed',
  'failed',
  'timed_out',
  'timing_out',
  'canceled',
  'canceling',
  'skipped',
  'broken',
  'expired',
  'limited',
];

export interface Settings {
  /** Buildkite API token (scopes read_builds, read_build_logs). Never printed. */
  readonly token: string;
  /** Organization slug. */
  readonly org: string;
  /** Pipeline slug. */
  readonly pipeline: string;
  /** Branch filter source text, as given. */
  readonly branchRegex: string;
  /** Branch filter, compiled; PR builds are also tested as `pull/<id>/head`. */
  readonly branchPattern: RegExp;
  /** Step label substring, matched case-insensitively. */
  readonly step: string;
  /** How many of the most recent builds to examine. */
  readonly maxBuilds: number;
  /** Patterns as given (literal text, or regex sources with `regex`). */
  readonly patterns: readonly string[];
  /** Patterns are regular expressions rather than literal substrings. */
  readonly regex: boolean;
  /** Compiled patterns, in the order given. */
  readonly compiled: readonly CompiledPattern[];
  /** Base URL of the Buildkite REST API (no trailing slash). */
  readonly apiUrl: string;
  /** Log downloads in flight at once. */
  readonly concurrency: number;
  /** Only download attempts in these job states; null means every state. */
  readonly jobStates: readonly string[] | null;
  /** Directory of the finished-log cache; null disables it. */
  readonly cacheDir: string | null;
  /** Size bound of the log cache in MiB. */
  readonly cacheMaxMb: number;
  /** Logs that cannot be fetched make the run fail instead of a warning. */
  readonly strict: boolean;
  /**
   * Where failures count as "broken on the baseline branch": the pipeline's default branch
   * (asked of Buildkite), a branch given by name, or null for no baseline evidence.
   */
  readonly baseline: BaselineSetting | null;
  /** Distinct PRs from which a failure is called flaky. */
  readonly minPrs: number;
  /** Where the settings came from, so messages name them as the user knows them. */
  readonly surface: Surface;
  /** Scans in a row without a match after which a tracked flake counts as resolved. */
  readonly resolveAfter: number;
  /** Find failure signatures without being told the patterns (besides any patterns given). */
  readonly discover: boolean;
}

export type BaselineSetting = { readonly from: 'pipeline' } | { readonly from: 'setting'; readonly branch: string };

/** The value of `baseline-branch` that means "the pipeline's default branch" (also its default). */
export const PIPELINE_DEFAULT_BRANCH = 'default';

/**
 * Raw values as read from flags, inputs or the environment. Empty strings mean "not given".
 * Every key is required (its value may be undefined), so a setting that an entry point forgets to
 * read fails to compile.
 */
export interface RawSettings {
  readonly token: string | undefined;
  readonly org: string | undefined;
  readonly pipeline: string | undefined;
  readonly branchRegex: string | undefined;
  readonly step: string | undefined;
  readonly maxBuilds: string | undefined;
  readonly patternsFile: string | undefined;
  /** Patterns given directly (CLI `--pattern`, action `patterns`). */
  readonly patterns: readonly string[] | undefined;
  readonly regex: string | undefined;
  readonly apiUrl: string | undefined;
  readonly concurrency: string | undefined;
  readonly jobStates: string | undefined;
  readonly cacheDir: string | undefined;
  readonly cacheMaxMb: string | undefined;
  readonly strict: string | undefined;
  /** Empty turns baseline evidence off; undefined or `default` asks Buildkite. */
  readonly baselineBranch: string | undefined;
  readonly minPrs: string | undefined;
  readonly resolveAfter: string | undefined;
  readonly discover: string | undefined;
}

/** Every raw setting not given: a base for callers that set only a few (tests, the benchmark). */
export const NO_RAW_SETTINGS: RawSettings = Object.freeze({
  token: undefined,
  org: undefined,
  pipeline: undefined,
  branchRegex: undefined,
  step: undefined,
  maxBuilds: undefined,
  patternsFile: undefined,
  patterns: undefined,
  regex: undefined,
  apiUrl: undefined,
  concurrency: undefined,
  jobStates: undefined,
  cacheDir: undefined,
  cacheMaxMb: undefined,
  strict: undefined,
  baselineBranch: undefined,
  minPrs: undefined,
  resolveAfter: undefined,
  discover: undefined,
});

/** How each raw setting is named to the user, and its environment variable. */
export const SETTING_NAMES = {
  token: { flag: 'token', input: 'buildkite-token', env: 'BK_TOKEN' },
  org: { flag: 'org', input: 'org', env: 'BK_ORG' },
  pipeline: { flag: 'pipeline', input: 'pipeline', env: 'BK_PIPELINE' },
  branchRegex: { flag: 'branch-regex', input: 'branch-regex', env: 'BK_BRANCH_REGEX' },
  step: { flag: 'step', input: 'step', env: 'BK_STEP_SUBSTR' },
  maxBuilds: { flag: 'max-builds', input: 'max-builds', env: 'BK_MAX_BUILDS' },
  patternsFile: { flag: 'patterns-file', input: 'patterns-file', env: 'BK_PATTERNS_FILE' },
  apiUrl: { flag: 'api-url', input: 'api-url', env: 'BK_API_URL' },
  patterns: { flag: 'pattern', input: 'patterns', env: undefined },
  regex: { flag: 'regex', input: 'regex', env: undefined },
  concurrency: { flag: 'concurrency', input: 'concurrency', env: undefined },
  jobStates: { flag: 'job-states', input: 'job-states', env: undefined },
  cacheDir: { flag: 'cache-dir', input: 'cache-dir', env: undefined },
  cacheMaxMb: { flag: 'cache-max-mb', input: 'cache-max-mb', env: undefined },
  strict: { flag: 'strict', input: 'strict', env: undefined },
  baselineBranch: { flag: 'baseline-branch', input: 'baseline-branch', env: undefined },
  minPrs: { flag: 'min-prs', input: 'min-prs', env: undefined },
  resolveAfter: { flag: 'resolve-after', input: 'resolve-after', env: undefined },
  discover: { flag: 'discover', input: 'discover', env: undefined },
} as const;

export type SettingKey = keyof typeof SETTING_NAMES;

export const DEFAULTS = {
  org: 'vllm',
  pipeline: 'ci',
  branchRegex: '^pull/|^pr/',
  step: 'v1 Test others',
  maxBuilds: 200,
  apiUrl: 'https://api.buildkite.com',
  /**
   * 16 logs in flight: on the vllm/ci shape (100-150 ms per round trip, ~1 MB logs) this is
   * where more connections stop paying (8: about 7x the sequential speed, 16: 8.4-9.1x, 24: no
   * better; see docs/benchmarks.md). Under Buildkite's per-user limit (50/min) the pacer, not the pool,
   * sets the speed, and in-flight requests are counted against the window's budget.
   */
  concurrency: 16,
  cacheMaxMb: 2048,
  minPrs: 2,
  resolveAfter: 3,
} as const;

export const LIMITS = {
  maxBuilds: { min: 1, max: 5000 },
  concurrency: { min: 1, max: 64 },
  cacheMaxMb: { min: 1, max: 1_048_576 },
  minPrs: { min: 1, max: 1000 },
  resolveAfter: { min: 1, max: 1000 },
  /** A patterns file larger than this is refused: it is a list of signatures, not a log. */
  patternsFileBytes: 1024 * 1024,
  patternCount: 1000,
} as const;

/** A usage error: bad flag, input or environment value. Exit code 2 in the CLI. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

/** Reads a patterns file; the edge supplies it so parsing stays free of I/O. */
export type ReadFile = (path: string) => Buffer;

/** The name a user knows a setting by, in the surface they are using. */
export type Surface = 'flag' | 'input';

/** How a user names a setting where they set it: `--max-builds (BK_MAX_BUILDS)`, `max-builds (BK_MAX_BUILDS)`. */
export function settingLabel(key: SettingKey, surface: Surface): string {
  const names = SETTING_NAMES[key];
  const primary = surface === 'flag' ? `--${names.flag}` : names.input;
  return names.env ? `${primary} (${names.env})` : primary;
}

export function parseSettings(raw: RawSettings, readFile: ReadFile, surface: Surface = 'flag'): Settings {
  const label = (key: SettingKey): string => settingLabel(key, surface);
  const given = (value: string | undefined): value is string => value !== undefined && value.trim() !== '';

  const token = raw.token?.trim() ?? '';
  if (!token)
    throw new UsageError(`${label('token')} is required: a Buildkite API token with read_builds and read_build_logs`);
  if (/\s/.test(token)) throw new UsageError(`${label('token')} must not contain whitespace`);

  const org = slug('org', given(raw.org) ? raw.org.trim() : DEFAULTS.org);
  const pipeline = slug('pipeline', given(raw.pipeline) ? raw.pipeline.trim() : DEFAULTS.pipeline);

  const branchRegex = given(raw.branchRegex) ? raw.branchRegex : DEFAULTS.branchRegex;
  let branchPattern: RegExp;
  try {
    branchPattern = new RegExp(branchRegex);
  } catch (error: unknown) {
    throw new UsageError(
      `${label('branchRegex')} is not a valid regular expression: ${JSON.stringify(branchRegex)} (${reason(error)})`,
    );
  }

  // Not trimmed: the step is a substring, and its spaces are part of it. Empty selects every step
  // (the action reads an empty input as not given, so there it keeps the default).
  const step = raw.step ?? DEFAULTS.step;
  const maxBuilds = wholeNumber('maxBuilds', raw.maxBuilds, DEFAULTS.maxBuilds, LIMITS.maxBuilds);
  const regex = flag('regex', raw.regex);
  const strict = flag('strict', raw.strict);

  const patterns = [...(raw.patterns ?? [])];
  if (patterns.some((p) => p === '')) throw new UsageError(`${label('patterns')} must not be empty`);
  if (given(raw.patternsFile)) patterns.push(...readPatternsFile(raw.patternsFile.trim()));
  const discover = flag('discover', raw.discover);
  // Discovery needs no pattern: the built-in ones are for a scan that was given none at all.
  const useDefaults = patterns.length === 0 && !discover;
  // The same pattern from two sources would give two records per job and double its counts.
  const finalPatterns = useDefaults ? DEFAULT_PATTERNS : [...new Set(patterns)];
  if (finalPatterns.length > LIMITS.patternCount) {
    throw new UsageError(`at most ${LIMITS.patternCount} patterns are allowed, got ${finalPatterns.length}`);
  }
  // The spec's example patterns are regexes, whatever --regex says.
  const finalRegex = useDefaults ? true : regex;
  const compiled = compilePatterns(
    finalPatterns,
    finalRegex,
    (pattern, why) => new UsageError(`pattern ${JSON.stringify(pattern)} is not a valid regular expression: ${why}`),
  );

  const apiUrl = parseApiUrl(given(raw.apiUrl) ? raw.apiUrl.trim() : DEFAULTS.apiUrl);
  const concurrency = wholeNumber('concurrency', raw.concurrency, DEFAULTS.concurrency, LIMITS.concurrency);
  const cacheMaxMb = wholeNumber('cacheMaxMb', raw.cacheMaxMb, DEFAULTS.cacheMaxMb, LIMITS.cacheMaxMb);
  const jobStates = parseJobStates(raw.jobStates);
  const cacheDir = given(raw.cacheDir) ? raw.cacheDir.trim() : null;
  const baseline = parseBaseline(raw.baselineBranch);
  const minPrs = wholeNumber('minPrs', raw.minPrs, DEFAULTS.minPrs, LIMITS.minPrs);
  const resolveAfter = wholeNumber('resolveAfter', raw.resolveAfter, DEFAULTS.resolveAfter, LIMITS.resolveAfter);

  return Object.freeze({
    token,
    org,
    pipeline,
    branchRegex,
    branchPattern,
    step,
    maxBuilds,
    patterns: Object.freeze([...finalPatterns]),
    regex: finalRegex,
    compiled,
    apiUrl,
    concurrency,
    jobStates,
    cacheDir,
    cacheMaxMb,
    strict,
    baseline,
    minPrs,
    surface,
    resolveAfter,
    discover,
  });

  function parseBaseline(value: string | undefined): BaselineSetting | null {
    if (value === undefined) return { from: 'pipeline' };
    const branch = value.trim();
    if (branch === '') return null;
    if (branch === PIPELINE_DEFAULT_BRANCH) return { from: 'pipeline' };
    if (/[\s\x00-\x1f\x7f]/.test(branch)) {
      throw new UsageError(
        `${label('baselineBranch')} must be a branch name without spaces or control characters, got ${JSON.stringify(value)}`,
      );
    }
    return { from: 'setting', branch };
  }

  function slug(key: 'org' | 'pipeline', value: string): string {
    if (!/^[A-Za-z0-9][A-Za-z0-9_.-]*$/.test(value)) {
      throw new UsageError(
        `${label(key)} must be a Buildkite slug (letters, digits, "-", "_", "."), got ${JSON.stringify(value)}`,
      );
    }
    return value;
  }

  function wholeNumber(
    key: SettingKey,
    value: string | undefined,
    fallback: number,
    range: { min: number; max: number },
  ): number {
    // Absent means the default; given but empty is a mistake (an unset shell variable, say).
    if (value === undefined) return fallback;
    const text = value.trim();
    const n = /^\d+$/.test(text) ? Number(text) : Number.NaN;
    if (!Number.isSafeInteger(n) || n < range.min || n > range.max) {
      throw new UsageError(
        `${label(key)} must be a whole number from ${range.min} to ${range.max}, got ${JSON.stringify(value)}`,
      );
    }
    return n;
  }

  function flag(key: SettingKey, value: string | undefined): boolean {
    return parseBoolean(label(key), value);
  }

  function parseApiUrl(value: string): string {
    let url: URL;
    try {
      url = new URL(value);
    } catch {
      throw new UsageError(`${label('apiUrl')} must be an http(s) URL, got ${JSON.stringify(value)}`);
    }
    if (url.protocol !== 'https:' && url.protocol !== 'http:') {
      throw new UsageError(`${label('apiUrl')} must be an http(s) URL, got ${JSON.stringify(value)}`);
    }
    if (url.username || url.password || url.search || url.hash) {
      throw new UsageError(
        `${label('apiUrl')} must be a plain base URL without credentials, query or fragment, got ${JSON.stringify(url.origin + url.pathname)}`,
      );
    }
    if (/\/v2\/?$/.test(url.pathname)) {
      throw new UsageError(
        `${label('apiUrl')} is the API's base URL, without /v2 (e.g. https://api.buildkite.com), got ${JSON.stringify(value)}`,
      );
    }
    return url.href.replace(/\/+$/, '');
  }

  function parseJobStates(value: string | undefined): readonly string[] | null {
    if (!given(value)) return null;
    const states = value
      .split(',')
      .map((s) => s.trim().toLowerCase())
      .filter((s) => s !== '');
    const unknown = states.filter((s) => !JOB_STATES.includes(s));
    if (states.length === 0 || unknown.length > 0) {
      throw new UsageError(
        `${label('jobStates')} must be a comma-separated list of job states (${JOB_STATES.join(', ')}), got ${JSON.stringify(value)}`,
      );
    }
    return Object.freeze([...new Set(states)]);
  }

  function readPatternsFile(path: string): string[] {
    let bytes: Buffer;
    try {
      bytes = readFile(path);
    } catch (error: unknown) {
      const code = (error as NodeJS.ErrnoException).code;
      const why = code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'it is a directory' : reason(error);
      throw new UsageError(`${label('patternsFile')} cannot be read: ${JSON.stringify(path)} (${why})`);
    }
    if (bytes.length > LIMITS.patternsFileBytes) {
      throw new UsageError(
        `${label('patternsFile')} is too large: ${JSON.stringify(path)} has ${bytes.length} bytes, at most ${LIMITS.patternsFileBytes} are allowed`,
      );
    }
    if (bytes.includes(0)) {
      throw new UsageError(`${label('patternsFile')} is not a text file: ${JSON.stringify(path)} contains NUL bytes`);
    }
    const lines = bytes
      .toString('utf8')
      .split(/\r?\n/)
      .map((line) => line.trim())
      .filter((line) => line !== '' && !line.startsWith('#'));
    if (lines.length === 0) {
      throw new UsageError(
        `${label('patternsFile')} has no patterns: ${JSON.stringify(path)} (one per line; blank lines and lines starting with # are ignored)`,
      );
    }
    return lines;
  }
}

/** `true` or `false` in any case; blank or absent is false. `name` is what the error calls it. */
export function parseBoolean(name: string, value: string | undefined): boolean {
  const text = value?.trim().toLowerCase() ?? '';
  if (text === '' || text === 'false') return false;
  if (text === 'true') return true;
  throw new UsageError(`${name} must be true or false, got ${JSON.stringify(value)}`);
}

function reason(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/**
 * Warnings about settings that are allowed but risky: regexes that can backtrack
 * catastrophically, and a token about to travel unencrypted to a host that is not this machine.
 */
export function settingsWarnings(settings: Settings): string[] {
  const warnings = riskyPatternWarnings(settings.compiled);
  const url = new URL(settings.apiUrl);
  const loopback = ['localhost', '127.0.0.1', '[::1]'].includes(url.hostname) || url.hostname.startsWith('127.');
  if (url.protocol === 'http:' && !loopback) {
    warnings.push(
      `api-url ${JSON.stringify(settings.apiUrl)} is plain http: the Buildkite token will cross the network unencrypted`,
    );
  }
  return warnings;
}

/** Settings safe to print or write to a report: the token is left out. */
export function describeSettings(settings: Settings): Record<string, unknown> {
  return {
    org: settings.org,
    pipeline: settings.pipeline,
    branch_regex: settings.branchRegex,
    step: settings.step,
    max_builds: settings.maxBuilds,
    patterns: settings.patterns,
    regex: settings.regex,
    api_url: settings.apiUrl,
    concurrency: settings.concurrency,
    job_states: settings.jobStates,
    cache_dir: settings.cacheDir,
    cache_max_mb: settings.cacheMaxMb,
    strict: settings.strict,
    baseline_branch:
      settings.baseline === null
        ? null
        : settings.baseline.from === 'pipeline'
          ? PIPELINE_DEFAULT_BRANCH
          : settings.baseline.branch,
    min_prs: settings.minPrs,
    resolve_after: settings.resolveAfter,
    discover: settings.discover,
  };
}
