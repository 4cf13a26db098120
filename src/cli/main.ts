// The `flake-checker` command: flags and BK_* variables into Settings, scan, print.
// Exit codes: 0 scan completed (matches or not), 1 the scan could not complete, 2 usage error.

import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { Command, CommanderError, Option } from 'commander';
import { parseEnvFile } from './env-file.ts';
import { keepYoungGenerationSmall } from '../heap.ts';
import { retryOverridesFromEnv } from '../pipeline/env-overrides.ts';
import { scan, type ScanProgress } from '../pipeline/scan.ts';
import { renderText } from '../report/render-text.ts';
import { toPrintable } from '../core/clean-line.ts';
import { DEFAULTS, LIMITS, parseSettings, SETTING_NAMES, settingsWarnings, UsageError, type RawSettings, type SettingKey } from '../settings.ts';

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
  envFile?: string;
  concurrency?: string;
  jobStates?: string;
  cacheDir?: string;
  cache: boolean;
  cacheMaxMb?: string;
  strict?: boolean;
}

function defaultCacheDir(env: NodeJS.ProcessEnv): string {
  const base = env.XDG_CACHE_HOME || join(homedir(), '.cache');
  return join(base, 'flake-checker');
}

function buildProgram(): Command {
  return new Command()
    .name('flake-checker')
    .description('Scan recent Buildkite builds for known failure patterns (flakes) in job logs.')
    .option('--token <token>', 'Buildkite API token with read_builds and read_build_logs [env BK_TOKEN] (required)')
    .option('--org <slug>', `organization slug [env BK_ORG] (default: ${DEFAULTS.org})`)
    .option('--pipeline <slug>', `pipeline slug [env BK_PIPELINE] (default: ${DEFAULTS.pipeline})`)
    .option('--branch-regex <regex>', `keep builds whose branch matches; PR builds also as pull/<id>/head [env BK_BRANCH_REGEX] (default: "${DEFAULTS.branchRegex}")`)
    .option('--step <text>', `job label substring, case-insensitive [env BK_STEP_SUBSTR] (default: "${DEFAULTS.step}")`)
    .option('--max-builds <n>', `most recent builds to examine, ${LIMITS.maxBuilds.min}-${LIMITS.maxBuilds.max} [env BK_MAX_BUILDS] (default: ${DEFAULTS.maxBuilds})`)
    .addOption(new Option('--pattern <text>', 'a pattern to look for (repeatable)').argParser((value: string, all: string[] = []) => [...all, value]).default([], 'none'))
    .option('--patterns-file <file>', 'file with one pattern per line; blank and # lines ignored [env BK_PATTERNS_FILE]')
    .option('--regex', 'patterns are JavaScript regular expressions (default: literal text)')
    .option('--json', 'print only a JSON array of match records on stdout')
    .option('--api-url <url>', `Buildkite API base URL [env BK_API_URL] (default: ${DEFAULTS.apiUrl})`)
    .option('--env-file <file>', 'load BK_* variables from a .env file (variables already set win)')
    .option('--concurrency <n>', `log downloads in flight, ${LIMITS.concurrency.min}-${LIMITS.concurrency.max} (default: ${DEFAULTS.concurrency})`)
    .option('--job-states <list>', 'only download attempts in these states, e.g. failed,timed_out,broken (default: all)')
    .option('--cache-dir <dir>', 'cache of finished jobs\' logs (default: $XDG_CACHE_HOME/flake-checker or ~/.cache/flake-checker)')
    .option('--no-cache', 'do not read or write the log cache')
    .option('--cache-max-mb <n>', `size bound of the log cache in MiB (default: ${DEFAULTS.cacheMaxMb})`)
    .option('--strict', 'exit 1 when some logs could not be fetched')
    .addHelpText('after', `
Configuration: a flag wins over its BK_* variable, which wins over the default.
With no --pattern and no patterns file, the spec's three example regexes are used.
Exit codes: 0 scan completed (with or without matches), 1 the scan could not complete, 2 usage error.`)
    .exitOverride()
    .configureOutput({ outputError: () => undefined });
}

export async function main(argv: readonly string[], env: NodeJS.ProcessEnv): Promise<number> {
  const program = buildProgram();
  let flags: Flags;
  try {
    program.parse(argv as string[], { from: 'user' });
    flags = program.opts<Flags>();
  } catch (error: unknown) {
    if (error instanceof CommanderError) {
      if (error.code === 'commander.helpDisplayed' || error.code === 'commander.help') return 0;
      process.stderr.write(`flake-checker: ${error.message.replace(/^error: /, '')} (see --help)\n`);
      return 2;
    }
    throw error;
  }

  let settings;
  try {
    const merged: NodeJS.ProcessEnv = { ...env };
    if (flags.envFile) {
      let text: string;
      try {
        text = readFileSync(flags.envFile, 'utf8');
      } catch {
        throw new UsageError(`--env-file cannot be read: ${JSON.stringify(flags.envFile)}`);
      }
      for (const [key, value] of parseEnvFile(text)) if (merged[key] === undefined) merged[key] = value;
    }
    // A flag, else its BK_* variable (the names are SETTING_NAMES', shared with the action).
    const pick = (flag: string | undefined, key: SettingKey) => flag ?? envValue(key, merged);
    const raw: RawSettings = {
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
      cacheDir: flags.cache ? (flags.cacheDir ?? defaultCacheDir(merged)) : undefined,
      cacheMaxMb: flags.cacheMaxMb,
      strict: flags.strict ? 'true' : undefined,
    };
    settings = parseSettings(raw, (path) => readFileSync(path), 'flag');
  } catch (error: unknown) {
    if (error instanceof UsageError) {
      process.stderr.write(`flake-checker: ${error.message}\n`);
      return 2;
    }
    throw error;
  }

  for (const warning of settingsWarnings(settings)) process.stderr.write(`flake-checker: warning: ${toPrintable(warning)}\n`);
  const progress = process.stderr.isTTY ? new TtyProgress() : null;
  // Everything below may carry server text: the token is scrubbed from whatever is printed.
  const print = (stream: NodeJS.WriteStream, text: string) => stream.write(text.replaceAll(settings.token, '***'));
  try {
    const report = await scan(settings, {
      progress: progress ? (event) => progress.update(event) : undefined,
      userAgent: 'flake-checker-cli',
      http: retryOverridesFromEnv(env),
    });
    progress?.clear();
    for (const warning of report.warnings) print(process.stderr, `flake-checker: warning: ${toPrintable(warning)}\n`);
    print(process.stdout, flags.json ? `${JSON.stringify(report.matches, null, 2)}\n` : renderText(report, settings.patterns));
    if (report.failures.length > 0) {
      const n = report.failures.length;
      print(process.stderr, `flake-checker: warning: ${n} log${n === 1 ? '' : 's'} could not be fetched${settings.strict ? ' (--strict: failing)' : ''}\n`);
      if (flags.json) {
        for (const f of report.failures.slice(0, 20)) print(process.stderr, `  #${f.build_number} ${toPrintable(f.job_id)}: ${toPrintable(f.reason)}\n`);
      }
      if (settings.strict) return 1;
    }
    return 0;
  } catch (error: unknown) {
    progress?.clear();
    print(process.stderr, `flake-checker: error: ${toPrintable(error instanceof Error ? error.message : String(error))}\n`);
    return 1;
  }
}

/** The value of a setting's BK_* variable, for the settings that have one. */
function envValue(key: SettingKey, env: NodeJS.ProcessEnv): string | undefined {
  const name = SETTING_NAMES[key].env;
  return name ? env[name] : undefined;
}

/** One self-overwriting status line on a terminal's stderr. */
class TtyProgress {
  private builds = '';
  private logs = '';
  update(event: ScanProgress): void {
    if (event.kind === 'builds') this.builds = `${event.listed} builds listed, ${event.matchedBranch} on matching branches, ${event.selectedJobs} jobs`;
    else this.logs = `${event.done}/${event.total} logs`;
    process.stderr.write(`\r\x1b[2K${[this.builds, this.logs].filter(Boolean).join(' · ')}`);
  }
  clear(): void {
    process.stderr.write('\r\x1b[2K');
  }
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
