// The `flake-checker` command: flags and BK_* variables into Settings, scan, print.
// Exit codes: 0 scan completed (matches or not), 1 the scan could not complete, 2 usage error.

import { readFileSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { Command, CommanderError, Option } from 'commander';
import { parseEnvFile } from './env-file.ts';
import { keepYoungGenerationSmall } from '../heap.ts';
import { retryOverridesFromEnv } from '../pipeline/env-overrides.ts';
import { scan } from '../pipeline/scan.ts';
import { listLogFailures, logsNotFetched } from '../report/messages.ts';
import { TtyProgress } from './tty-progress.ts';
import { renderFullReport } from '../report/render-json.ts';
import { renderPatternsFile } from '../core/discover/emit.ts';
import { updateTrackerFile } from '../tracker/file-store.ts';
import { summarizeTracker, type TrackerSummary } from '../tracker/state.ts';
import { renderReport } from '../report/render-markdown.ts';
import { renderText } from '../report/render-text.ts';
import { ANSI, PLAIN, wantsColour } from '../report/style.ts';
import { toPrintable } from '../core/clean-line.ts';
import type { ScanReport } from '../core/types.ts';
import {
  DEFAULTS,
  LIMITS,
  parseSettings,
  PIPELINE_DEFAULT_BRANCH,
  SETTING_NAMES,
  settingsWarnings,
  UsageError,
  type RawSettings,
  type SettingKey,
  type Settings,
} from '../settings.ts';

interface Flags {
  token?: string;
  org?: string;
  pipeline?: string;
  branchRegex?: string;
  step?: string;
  maxBuilds?: string;
  patternsFile?: string;
  pattern: string[];
  regex?: boolean;
  json?: boolean;
  apiUrl?: string;
  dotenv?: string;
  envFile?: string;
  concurrency?: string;
  jobStates?: string;
  cacheDir?: string;
  cache: boolean;
  cacheMaxMb?: string;
  strict?: boolean;
  format: OutputFormat;
  baselineBranch?: string;
  minPrs?: string;
  reportFile?: string;
  trackerFile?: string;
  discover?: boolean;
  emitPatterns?: string;
  resolveAfter?: string;
}

const OUTPUT_FORMATS = ['text', 'markdown'] as const;
type OutputFormat = (typeof OUTPUT_FORMATS)[number];

function defaultCacheDir(env: NodeJS.ProcessEnv): string {
  const base = env.XDG_CACHE_HOME || join(homedir(), '.cache');
  return join(base, 'flake-checker');
}

function buildProgram(): Command {
  return (
    new Command()
      .name('flake-checker')
      .description('Scan recent Buildkite builds for known failure patterns (flakes) in job logs.')
      .option('--token <token>', 'Buildkite API token with read_builds and read_build_logs [env BK_TOKEN] (required)')
      .option('--org <slug>', `organization slug [env BK_ORG] (default: ${DEFAULTS.org})`)
      .option('--pipeline <slug>', `pipeline slug [env BK_PIPELINE] (default: ${DEFAULTS.pipeline})`)
      .option(
        '--branch-regex <regex>',
        `keep builds whose branch matches; PR builds also as pull/<id>/head [env BK_BRANCH_REGEX] (default: "${DEFAULTS.branchRegex}")`,
      )
      .option(
        '--step <text>',
        `job label substring, case-insensitive [env BK_STEP_SUBSTR] (default: "${DEFAULTS.step}")`,
      )
      .option(
        '--max-builds <n>',
        `most recent builds to examine, ${LIMITS.maxBuilds.min}-${LIMITS.maxBuilds.max} [env BK_MAX_BUILDS] (default: ${DEFAULTS.maxBuilds})`,
      )
      .addOption(
        new Option('--pattern <text>', 'a pattern to look for (repeatable)')
          .argParser((value: string, all: string[] = []) => [...all, value])
          .default([], 'none'),
      )
      .option(
        '--patterns-file <file>',
        'file with one pattern per line; blank and # lines ignored [env BK_PATTERNS_FILE]',
      )
      .option('--regex', 'patterns are JavaScript regular expressions (default: literal text)')
      .addOption(new Option('--json', 'print only a JSON array of match records on stdout').conflicts('format'))
      .addOption(
        new Option(
          '--format <format>',
          "report format on stdout: text, or markdown (the job summary's report, for buildkite-agent annotate)",
        )
          .choices(OUTPUT_FORMATS)
          .default('text'),
      )
      .option('--api-url <url>', `Buildkite API base URL [env BK_API_URL] (default: ${DEFAULTS.apiUrl})`)
      .option(
        '--dotenv <file>',
        'load BK_* variables from a .env file (variables already set win); --env-file is an alias where Node leaves it to us',
      )
      // Node 20 and 22 take `--env-file` for themselves wherever it stands on the command line
      // (and exit 9 when the file is missing), so the documented name is --dotenv.
      .addOption(new Option('--env-file <file>').hideHelp())
      .option(
        '--concurrency <n>',
        `log downloads in flight, ${LIMITS.concurrency.min}-${LIMITS.concurrency.max} (default: ${DEFAULTS.concurrency})`,
      )
      .option(
        '--job-states <list>',
        'only download attempts in these states, e.g. failed,timed_out,broken (default: all)',
      )
      .option(
        '--cache-dir <dir>',
        "cache of finished jobs' logs (default: $XDG_CACHE_HOME/flake-checker or ~/.cache/flake-checker)",
      )
      .option('--no-cache', 'do not read or write the log cache')
      .option('--cache-max-mb <n>', `size bound of the log cache in MiB (default: ${DEFAULTS.cacheMaxMb})`)
      .option('--strict', 'exit 1 when some logs could not be fetched')
      .option(
        '--baseline-branch <branch>',
        `failures on this branch's builds mean "broken on main"; "${PIPELINE_DEFAULT_BRANCH}" asks Buildkite for the pipeline's default branch, "" turns it off (default: ${PIPELINE_DEFAULT_BRANCH})`,
      )
      .option(
        '--min-prs <n>',
        `a failure seen in this many PRs is called flaky, ${LIMITS.minPrs.min}-${LIMITS.minPrs.max} (default: ${DEFAULTS.minPrs})`,
      )
      .option(
        '--report-file <file>',
        'also write the full report (settings, counts, flakes, matches, failures) as JSON to this file',
      )
      .option(
        '--discover',
        'also find failure signatures without being told the patterns (pytest failures, tracebacks, infrastructure)',
      )
      .option(
        '--emit-patterns <file>',
        "with --discover: write each signature's regex to this patterns file (read it back with --regex --patterns-file)",
      )
      .option(
        '--tracker-file <file>',
        "keep the flakes' history across runs in this JSON file (the action keeps it in an issue)",
      )
      .option(
        '--resolve-after <n>',
        `a tracked flake is resolved after this many scans in a row without a match, ${LIMITS.resolveAfter.min}-${LIMITS.resolveAfter.max} (default: ${DEFAULTS.resolveAfter})`,
      )
      .version(readVersion(), '--version', 'print the version and exit')
      .addHelpText(
        'after',
        `
Configuration: a flag wins over its BK_* variable, which wins over the default.
With no --pattern and no patterns file, the built-in patterns (three regexes) are used.
An empty --step (--step '') selects every step.
Exit codes: 0 scan completed (with or without matches), 1 the scan could not complete, 2 usage error.`,
      )
      .exitOverride()
      .configureOutput({ outputError: () => undefined })
  );
}

export async function main(argv: readonly string[], env: NodeJS.ProcessEnv): Promise<number> {
  const parsed = parseCommandLine(argv);
  if (typeof parsed === 'number') return parsed;
  let settings: Settings;
  try {
    settings = parseSettings(
      toRawSettings(parsed, withEnvFile(env, parsed.dotenv ?? parsed.envFile)),
      (path) => readFileSync(path),
      'flag',
    );
    if (parsed.emitPatterns && !settings.discover)
      throw new UsageError('--emit-patterns needs --discover: it writes the signatures discovery finds');
  } catch (error: unknown) {
    if (!(error instanceof UsageError)) throw error;
    process.stderr.write(`flake-checker: ${error.message}\n`);
    return 2;
  }
  for (const warning of settingsWarnings(settings))
    process.stderr.write(`flake-checker: warning: ${toPrintable(warning)}\n`);
  return scanAndPrint(settings, parsed, env);
}

/** The flags, or the exit code when the command line was help or a usage error. */
function parseCommandLine(argv: readonly string[]): Flags | number {
  const program = buildProgram();
  try {
    program.parse(argv as string[], { from: 'user' });
  } catch (error: unknown) {
    if (!(error instanceof CommanderError)) throw error;
    if (['commander.helpDisplayed', 'commander.help', 'commander.version'].includes(error.code)) return 0;
    // Commander puts its suggestion ("Did you mean …?") on a line of its own: keep one line.
    process.stderr.write(
      `flake-checker: ${error.message.replace(/^error: /, '').replace(/\s*\n\s*/g, ' ')} (see --help)\n`,
    );
    return 2;
  }
  return program.opts<Flags>();
}

/** The environment with a `.env` file's variables added; variables already set win. */
function withEnvFile(env: NodeJS.ProcessEnv, path: string | undefined): NodeJS.ProcessEnv {
  if (!path) return env;
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    throw new UsageError(`--dotenv cannot be read: ${JSON.stringify(path)}`);
  }
  const { vars, badLines } = parseEnvFile(text);
  for (const line of badLines) {
    process.stderr.write(
      `flake-checker: warning: ${toPrintable(path)} line ${line} is not KEY=value (or export KEY=value); ignored\n`,
    );
  }
  const merged: NodeJS.ProcessEnv = { ...env };
  for (const [key, value] of vars) if (merged[key] === undefined) merged[key] = value;
  return merged;
}

/** A flag, else its BK_* variable (the names are SETTING_NAMES', shared with the action). */
function toRawSettings(flags: Flags, env: NodeJS.ProcessEnv): RawSettings {
  const pick = (flag: string | undefined, key: SettingKey) => flag ?? envValue(key, env);
  return {
    token: pick(flags.token, 'token'),
    org: pick(flags.org, 'org'),
    pipeline: pick(flags.pipeline, 'pipeline'),
    branchRegex: pick(flags.branchRegex, 'branchRegex'),
    step: pick(flags.step, 'step'),
    maxBuilds: pick(flags.maxBuilds, 'maxBuilds'),
    patternsFile: pick(flags.patternsFile, 'patternsFile'),
    apiUrl: pick(flags.apiUrl, 'apiUrl'),
    patterns: flags.pattern,
    regex: flags.regex ? 'true' : undefined,
    concurrency: flags.concurrency,
    jobStates: flags.jobStates,
    cacheDir: flags.cache ? (flags.cacheDir ?? defaultCacheDir(env)) : undefined,
    cacheMaxMb: flags.cacheMaxMb,
    strict: flags.strict ? 'true' : undefined,
    baselineBranch: flags.baselineBranch,
    minPrs: flags.minPrs,
    resolveAfter: flags.resolveAfter,
    discover: flags.discover ? 'true' : undefined,
  };
}

/** Runs the scan and prints the report. Exit 0 when it completed, 1 when it could not (or --strict). */
async function scanAndPrint(settings: Settings, flags: Flags, env: NodeJS.ProcessEnv): Promise<number> {
  const progress = process.stderr.isTTY ? new TtyProgress(process.stderr) : null;
  // Everything below may carry server text: the token is scrubbed from whatever is printed.
  const print = (stream: NodeJS.WriteStream, text: string) => stream.write(text.replaceAll(settings.token, '***'));
  let report: ScanReport;
  try {
    report = await scan(settings, {
      progress: progress ? (event) => progress.update(event) : undefined,
      userAgent: 'flake-checker-cli',
      http: retryOverridesFromEnv(env),
    });
  } catch (error: unknown) {
    progress?.clear();
    print(
      process.stderr,
      `flake-checker: error: ${toPrintable(error instanceof Error ? error.message : String(error))}\n`,
    );
    return 1;
  }
  progress?.clear();
  for (const warning of report.warnings) print(process.stderr, `flake-checker: warning: ${toPrintable(warning)}\n`);
  print(process.stdout, renderFor(flags, report, settings));
  // After the report is printed, so a file that cannot be written loses nothing.
  if (flags.emitPatterns && !emitPatterns(flags.emitPatterns, report, print)) return 1;
  const tracker = flags.trackerFile ? updateTracker(flags.trackerFile, report, settings, print) : null;
  if (flags.reportFile) {
    try {
      writeFileSync(flags.reportFile, renderFullReport(report, settings, tracker).replaceAll(settings.token, '***'));
    } catch (error: unknown) {
      const why = toPrintable(error instanceof Error ? error.message : String(error));
      print(
        process.stderr,
        `flake-checker: error: --report-file cannot be written: ${JSON.stringify(flags.reportFile)} (${why})\n`,
      );
      return 1;
    }
  }
  if (report.failures.length === 0) return 0;
  print(
    process.stderr,
    `flake-checker: warning: ${logsNotFetched(report.failures.length)}${settings.strict ? ' (--strict: failing)' : ''}\n`,
  );
  // The human report lists them; the machine formats keep stdout to their own shape.
  if (flags.json || flags.format === 'markdown')
    for (const line of listLogFailures(report.failures)) print(process.stderr, `  ${line}\n`);
  return settings.strict ? 1 : 0;
}

/** Writes the discovered signatures' regexes as a patterns file; false (said on stderr) when it cannot. */
function emitPatterns(
  path: string,
  report: ScanReport,
  print: (stream: NodeJS.WriteStream, text: string) => void,
): boolean {
  const entries = report.clusters.map((c) => ({
    signature: c.signature,
    pattern: c.pattern,
    prs: c.prs.length,
    builds: c.builds,
  }));
  try {
    writeFileSync(path, renderPatternsFile(entries));
    print(
      process.stderr,
      `flake-checker: wrote ${entries.length} pattern${entries.length === 1 ? '' : 's'} to ${toPrintable(path)} (use them with --regex --patterns-file)\n`,
    );
    return true;
  } catch (error: unknown) {
    print(
      process.stderr,
      `flake-checker: error: --emit-patterns cannot be written: ${JSON.stringify(path)} (${toPrintable(error instanceof Error ? error.message : String(error))})\n`,
    );
    return false;
  }
}

/** Merges this run into the tracker file; a problem is a warning, and the run goes on. */
function updateTracker(
  path: string,
  report: ScanReport,
  settings: Settings,
  print: (stream: NodeJS.WriteStream, text: string) => void,
): TrackerSummary | null {
  if (report.stats.jobs_scanned === 0) {
    print(process.stderr, `flake-checker: warning: no log was scanned, so ${toPrintable(path)} was left as it is\n`);
    return null;
  }
  try {
    const { state, problem } = updateTrackerFile(path, {
      flakes: report.flakes,
      matches: report.matches,
      runAt: new Date().toISOString(),
      resolveAfter: settings.resolveAfter,
    });
    if (problem) print(process.stderr, `flake-checker: warning: ${toPrintable(problem)}\n`);
    const summary = summarizeTracker(state, null);
    const active = summary.flakes.filter((f) => f.status === 'active').length;
    print(
      process.stderr,
      `flake-checker: tracker ${toPrintable(path)}: ${active} active, ${summary.flakes.length - active} resolved\n`,
    );
    return summary;
  } catch (error: unknown) {
    print(
      process.stderr,
      `flake-checker: warning: --tracker-file cannot be updated: ${toPrintable(error instanceof Error ? error.message : String(error))}\n`,
    );
    return null;
  }
}

/** Buildkite annotations hold at most 1 MiB; the margin covers the byte-exact edge. */
const ANNOTATION_MAX_BYTES = 1024 * 1024 - 1024;

function renderFor(flags: Flags, report: ScanReport, settings: Settings): string {
  // Discovered records are match records too, with what their signature is.
  if (flags.json) return `${JSON.stringify([...report.matches, ...report.discovered], null, 2)}\n`;
  if (flags.format === 'markdown') {
    return renderReport(report, settings, {
      maxBytes: ANNOTATION_MAX_BYTES,
      fullReportHint: 'the output of `flake-checker --json`',
    });
  }
  return renderText(report, wantsColour(process.env, process.stdout.isTTY === true) ? ANSI : PLAIN);
}

/** The value of a setting's BK_* variable, for the settings that have one. */
function envValue(key: SettingKey, env: NodeJS.ProcessEnv): string | undefined {
  const name = SETTING_NAMES[key].env;
  return name ? env[name] : undefined;
}

/** The package's version: package.json sits two folders up from src/cli/ and from dist/cli/. */
function readVersion(): string {
  try {
    const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
      version?: unknown;
    };
    return typeof pkg.version === 'string' ? pkg.version : 'unknown';
  } catch {
    return 'unknown';
  }
}

// A reader that stops early (`flake-checker --help | head`) closes the pipe: end quietly.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code === 'EPIPE') process.exit(process.exitCode ?? 0);
    throw error;
  });
}

keepYoungGenerationSmall();
main(process.argv.slice(2), process.env).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(`flake-checker: internal error: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exitCode = 1;
  },
);
