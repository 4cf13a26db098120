// The CLI as a person meets it in a terminal: version, help piped into head, the .env option on
// every supported Node, empty values, suggestions when the step selects nothing, missing logs
// named, and colour (a real pseudo-terminal through util-linux `script`, not a mock).

import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectedCounts, startSimulator, type Simulator } from '../../src/simulator/index.ts';
import { CLI, NODE24, runCli } from '../support/cli.ts';

const run = promisify(execFile);
let sim: Simulator;
let dir: string;
const env = () => ({ BK_TOKEN: sim.token, BK_API_URL: sim.url });
const version = (JSON.parse(readFileSync('package.json', 'utf8')) as { version: string }).version;

beforeAll(async () => {
  sim = await startSimulator({ seed: 5, builds: 40, rateLimit: { orgLimit: 100_000, userLimit: 100_000 } });
  dir = mkdtempSync(join(tmpdir(), 'flake-checker-terminal-'));
});
afterAll(async () => {
  await sim.close();
  rmSync(dir, { recursive: true, force: true });
});

/** Runs a shell command line with the simulator's variables and a clean environment. */
async function shell(
  command: string,
  extra: Record<string, string> = {},
): Promise<{ stdout: string; stderr: string; code: number }> {
  try {
    const { stdout, stderr } = await run('bash', ['-c', command], {
      env: { PATH: process.env.PATH ?? '', HOME: dir, ...env(), ...extra },
      maxBuffer: 64 * 1024 * 1024,
    });
    return { stdout, stderr, code: 0 };
  } catch (error: unknown) {
    const e = error as { stdout: string; stderr: string; code: number };
    return { stdout: e.stdout, stderr: e.stderr, code: e.code };
  }
}

describe('the command line', () => {
  it('--version prints the package version', async () => {
    expect(await runCli(['--version'])).toMatchObject({ code: 0, stdout: `${version}\n`, stderr: '' });
  });

  it('ends quietly when stdout closes early', async () => {
    // A big report into `head`: the CLI keeps writing after head has gone.
    const res = await shell(
      `set -o pipefail; node ${CLI} --no-cache --branch-regex '.*' --step '' --pattern INFO | head -c 100 >/dev/null; echo "exit \${PIPESTATUS[0]}"`,
    );
    expect(res.stdout).toBe('exit 0\n');
    expect(res.stderr).toBe('');
  });

  it('--dotenv reads a .env on Node 20 and 24, names its bad lines, and refuses a missing file with its own message', async () => {
    const file = join(dir, 'scan.env');
    writeFileSync(
      file,
      `export BK_TOKEN=${sim.token}\nexport BK_API_URL=${sim.url}\nnot a setting\nexport BK_MAX_BUILDS=5\n`,
    );
    for (const node of [process.execPath, NODE24]) {
      const res = await runCli(['--json', '--no-cache', '--dotenv', file], {}, node);
      expect(res.code).toBe(0);
      expect(res.stderr).toBe(
        `flake-checker: warning: ${file} line 3 is not KEY=value (or export KEY=value); ignored\n`,
      );
      expect(JSON.parse(res.stdout)).toBeInstanceOf(Array);
      const missing = await runCli(['--dotenv', join(dir, 'missing.env')], env(), node);
      expect(missing).toMatchObject({
        code: 2,
        stderr: `flake-checker: --dotenv cannot be read: "${join(dir, 'missing.env')}"\n`,
      });
    }
  });

  it('an empty --step selects every step; an empty number is a usage error', async () => {
    const all = await runCli(
      ['--no-cache', '--json', '--max-builds', '10', '--branch-regex', '.*', '--step', '', '--pattern', 'x'],
      env(),
    );
    expect(all.code).toBe(0);
    const counts = expectedCounts(sim.dataset, {
      maxBuilds: 10,
      branchRegex: '.*',
      step: '',
      patterns: ['x'],
      regex: false,
    });
    expect(counts.jobs_selected).toBeGreaterThan(20);
    const text = await runCli(
      ['--no-cache', '--max-builds', '10', '--branch-regex', '.*', '--step', '', '--pattern', 'x'],
      env(),
    );
    expect(text.stdout).toContain(`, ${counts.jobs_selected} jobs selected,`);
    expect(await runCli(['--max-builds', ''], env())).toMatchObject({
      code: 2,
      stderr: 'flake-checker: --max-builds (BK_MAX_BUILDS) must be a whole number from 1 to 5000, got ""\n',
    });
    expect((await runCli(['--help'])).stdout).toContain("An empty --step (--step '') selects every step.");
  });

  it("fits an unknown option's error, with its suggestion, on one line", async () => {
    expect(await runCli(['--max-build', '3'], env())).toMatchObject({
      code: 2,
      stderr: "flake-checker: unknown option '--max-build' (Did you mean --max-builds?) (see --help)\n",
    });
  });

  it('says when the step selects no job, with the closest step labels', async () => {
    const res = await runCli(
      ['--no-cache', '--json', '--step', 'v1 test otters', '--branch-regex', '.*', '--max-builds', '20'],
      env(),
    );
    expect(res.code).toBe(0);
    expect(res.stdout).toBe('[]\n');
    expect(res.stderr).toMatch(
      /^flake-checker: warning: no script job's label contains "v1 test otters" \(compared case-insensitively\) in the 20 builds on matching branches; the closest step labels: "[^"]*[Oo][Tt][Hh][Ee][Rr][Ss][^"]*"/,
    );
  });

  it('names the missing logs (build, step, job) in the report', async () => {
    const res = await runCli(['--no-cache', '--branch-regex', '.*', '--max-builds', '40'], env());
    const counts = expectedCounts(sim.dataset, {
      maxBuilds: 40,
      branchRegex: '.*',
      step: 'v1 Test others',
      patterns: [],
      regex: true,
    });
    expect(counts.logs_missing).toBeGreaterThan(0);
    const section = res.stdout.split(
      `Missing ${counts.logs_missing} log${counts.logs_missing === 1 ? '' : 's'} (404: expired or never written):\n`,
    )[1];
    expect(section).toBeDefined();
    const lines = section!.split('\n\n')[0]!.split('\n');
    expect(lines).toHaveLength(Math.min(counts.logs_missing, 20) + (counts.logs_missing > 20 ? 1 : 0));
    for (const line of lines.slice(0, 20)) expect(line).toMatch(/^- #\d+ .*[Oo]thers.* \([0-9a-f-]{36}\)$/);
  });
});

describe('colour', () => {
  const args = `--no-cache --branch-regex '.*' --max-builds 40`;
  const hasColour = (text: string) => /\x1b\[[0-9;]*m/.test(text);

  it('colours a terminal, and not a pipe, NO_COLOR or TERM=dumb; FORCE_COLOR forces it', async () => {
    // `script` gives the CLI a real pseudo-terminal for stdout and stderr.
    const tty = await shell(`script -qec "node ${CLI} ${args}" /dev/null`, { TERM: 'xterm' });
    expect(tty.code).toBe(0);
    expect(hasColour(tty.stdout.split('Found ')[0]!)).toBe(true);
    expect(tty.stdout).toMatch(/\x1b\[1m[^\x1b]+\x1b\[0m/); // a pattern in bold
    const noColour = await shell(`script -qec "node ${CLI} ${args}" /dev/null`, { TERM: 'xterm', NO_COLOR: '1' });
    expect(noColour.stdout).toContain('Found ');
    // The progress line on the terminal's stderr erases with CSI K; the report itself has no SGR.
    expect(/\x1b\[[0-9;]*m/.test(noColour.stdout)).toBe(false);
    const dumb = await shell(`script -qec "node ${CLI} ${args}" /dev/null`, { TERM: 'dumb' });
    expect(/\x1b\[[0-9;]*m/.test(dumb.stdout)).toBe(false);
    const piped = await shell(`node ${CLI} ${args}`);
    expect(hasColour(piped.stdout)).toBe(false);
    const forced = await shell(`node ${CLI} ${args}`, { FORCE_COLOR: '1' });
    expect(hasColour(forced.stdout)).toBe(true);
    const json = await shell(`node ${CLI} ${args} --json`, { FORCE_COLOR: '1' });
    expect(hasColour(json.stdout)).toBe(false);
  });
});

describe('progress on a terminal', () => {
  it('counts logs, MB and matches on stderr, and says when it waits for the rate limit', async () => {
    // Four requests per two-second window: the scan must wait at least once.
    const limited = await startSimulator({
      seed: 5,
      builds: 12,
      rateLimit: { windowMs: 2000, userLimit: 4, orgLimit: 1000 },
    });
    try {
      const res = await shell(
        `script -qec "node ${CLI} --no-cache --branch-regex '.*' --max-builds 6 --json" /dev/null`,
        {
          TERM: 'xterm',
          BK_TOKEN: limited.token,
          BK_API_URL: limited.url,
        },
      );
      expect(res.code).toBe(0);
      expect(res.stdout).toMatch(
        /\r\x1b\[2K6 builds listed, \d+ on matching branches · \d+\/\d+ logs, \d+\.\d MB, \d+ match/,
      );
      expect(res.stdout).toMatch(/ · waiting \d+ s for Buildkite's rate limit \(4\/min per user\)/);
      // The line is cleared before the report: the JSON array follows on a clean line.
      expect(res.stdout).toMatch(/\r\x1b\[2K\[/);
    } finally {
      await limited.close();
    }
  });
});
