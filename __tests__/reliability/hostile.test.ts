// Hostile input: log bytes (invalid UTF-8, NUL, empty logs, a 300 MB line without a break),
// API data in shapes the types do not promise, patterns a user gets wrong, and a pattern slow
// enough to stall a run.

import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { scan, SlowPatternError } from '../../src/pipeline/scan.ts';
import { LONG_LINE_SIGNATURE, SIGNATURES } from '../../src/simulator/index.ts';
import { runCli } from '../support/cli.ts';
import { peakRssGrowth } from '../support/memory.ts';
import { expectSameMatches, fast, settingsFor, truth, useSimulators, type Query } from './support.ts';

const PATTERNS = [
  SIGNATURES.kvTokens,
  SIGNATURES.cudaIllegalAccess,
  SIGNATURES.connectionReset,
  SIGNATURES.hfReadTimeout,
];

const simulator = useSimulators({ builds: 60, logLines: [20, 60] });

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'flake-checker-hostile-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('hostile logs', () => {
  it('scans logs with invalid UTF-8 and NUL bytes, and empty logs, like any other', async () => {
    const sim = await simulator();
    // Every script job whose label has a space: about 500 logs, the odd ones among them.
    const query: Query = {
      maxBuilds: 60,
      branchRegex: '.*',
      step: ' ',
      patterns: [...PATTERNS, 'Binary output: ', 'nulin'],
      regex: false,
    };
    const selected = sim.dataset.builds
      .flatMap((b) => b.jobs)
      .filter(
        (j) => j.type === 'script' && j.started_at && (j.name ?? '').includes(' ') && sim.dataset.logExists(j.id),
      );
    // NUL bytes are controls, removed by cleaning: what is left of them is the text around.
    const odd = selected.filter((j) => [...sim.dataset.cleanLines(j.id)].some((l) => l.includes('\uFFFD')));
    const empty = selected.filter((j) => sim.dataset.logSize(j.id) === 0);
    expect(odd.length).toBeGreaterThan(3);
    expect(empty.length).toBeGreaterThan(0);

    const report = await scan(settingsFor(sim, query), fast);
    expect(report.failures).toEqual([]);
    expect(report.stats.jobs_scanned).toBe(selected.length);
    const expected = truth(sim, query);
    expect(expected.some((m) => m.pattern === 'nulin')).toBe(true);
    expectSameMatches(report.matches, expected);
  });

  it('scans a 300 MB log that is one line without a break, in bounded pieces, and finds what is inside it', async () => {
    const sim = await simulator({ builds: 12, bigLogs: { count: 1, bytes: 300 * 1024 * 1024, singleLine: true } });
    const query: Query = { maxBuilds: 12, branchRegex: '.*', step: 'v1 Test others', patterns: PATTERNS, regex: false };
    const { result: report, growth } = await peakRssGrowth(() => scan(settingsFor(sim, query), fast));
    // Streamed: the process never held the line (a copy alone would be 300 MB).
    expect(growth).toBeLessThan(200 * 1024 * 1024);
    expect(report.failures).toEqual([]);
    expect(report.stats.bytes_scanned).toBeGreaterThan(299 * 1024 * 1024);
    const expected = truth(sim, query);
    const inLongLine = expected.find((m) => m.line_text.length > 1_000_000);
    expect(inLongLine?.pattern).toBe(LONG_LINE_SIGNATURE);
    expectSameMatches(report.matches, expected);
  });
});

describe('hostile API data', () => {
  it("survives unknown states and types, null names, pull_request {} and {id: null}, missing jobs, mistyped fields and a proxy's HTML 502", async () => {
    const sim = await simulator({ hostile: true });
    const builds = sim.dataset.builds as unknown as Record<string, unknown>[];
    // The mutations are there to meet.
    expect(builds.some((b) => b.state === 'frobnicated')).toBe(true);
    expect(builds.some((b) => Array.isArray(b.jobs) && b.jobs.length === 0)).toBe(true);
    expect(builds.some((b) => typeof b.message === 'number')).toBe(true);
    expect(builds.some((b) => JSON.stringify(b.pull_request) === '{}')).toBe(true);
    const jobs = builds.flatMap((b) => b.jobs as Record<string, unknown>[]);
    expect(jobs.some((j) => j.state === 'quantum_superposition')).toBe(true);
    expect(jobs.some((j) => j.type === 'script' && j.name === null)).toBe(true);
    expect(jobs.some((j) => j.type === 'script' && typeof j.name === 'number')).toBe(true);

    const listed = await fetch(`${sim.url}/v2/organizations/vllm/pipelines/ci/builds?per_page=100`, {
      headers: { Authorization: `Bearer ${sim.token}` },
    });
    const served = (await listed.json()) as Record<string, unknown>[];
    expect(served.some((b) => !('jobs' in b))).toBe(true);
    expect(served.some((b) => b.jobs === null)).toBe(true);

    sim.resetStats();
    sim.failNext('list', 1, 502);
    const query: Query = { maxBuilds: 60, branchRegex: '.*', step: 'test', patterns: PATTERNS, regex: false };
    const report = await scan(settingsFor(sim, query), fast);
    expect(sim.stats.byStatus[502]).toBe(1);
    expect(report.failures).toEqual([]);
    const expected = truth(sim, query);
    expect(expected.some((m) => m.state === 'frobnicated' || m.job_state === 'quantum_superposition')).toBe(true);
    expectSameMatches(report.matches, expected);

    // The human report renders the same data.
    const res = await runCli(['--no-cache', '--max-builds', '60', '--branch-regex', '^pull/|^pr/', '--step', 'test'], {
      BK_TOKEN: sim.token,
      BK_API_URL: sim.url,
    });
    expect(res.code).toBe(0);
    expect(res.stdout).toMatch(/\nScanned 60 builds, \d+ jobs, \d+ matches found\.\n/);
  });

  it('says what is wrong with an answer that is not what the API promises', async () => {
    const sim = await simulator();
    // A build list that is an object, as an error document with status 200 would be.
    const { createServer } = await import('node:http');
    const server = createServer((req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(req.url === '/v2/access-token' ? 'null' : '{"message":"maintenance"}');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const port = (server.address() as { port: number }).port;
      const settings = settingsFor(
        sim,
        { maxBuilds: 5, branchRegex: '.*', step: 'x', patterns: ['x'], regex: false },
        { apiUrl: `http://127.0.0.1:${port}` },
      );
      await expect(scan(settings, fast)).rejects.toThrow(
        /^GET http:\/\/127\.0\.0\.1:\d+\/v2\/organizations\/vllm\/pipelines\/ci\/builds\?per_page=5&include_retried_jobs=true&exclude_pipeline=true did not answer a list of builds$/,
      );
    } finally {
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });
});

describe('hostile error bodies (bundled CLI)', () => {
  it("prints a server's error message without its terminal escapes", async () => {
    const { createServer } = await import('node:http');
    const server = createServer((req, res) => {
      res.setHeader('content-type', 'application/json');
      if (req.url === '/v2/access-token') return res.end('{"scopes":["read_builds","read_build_logs"]}');
      res.statusCode = 400;
      res.end(JSON.stringify({ message: '\u001b]0;pwned\u0007Bad \u001b[31mrequest\u001b[0m\r\nsecond line\u009b2J' }));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const port = (server.address() as { port: number }).port;
      const res = await runCli(['--no-cache'], {
        BK_TOKEN: 'bkua_escape_test',
        BK_API_URL: `http://127.0.0.1:${port}`,
      });
      expect(res.code).toBe(1);
      expect(res.stderr).toMatch(/answered 400: Bad request second line2J\n$/);
      expect(res.stderr).not.toMatch(/[\x00-\x09\x0b-\x1f\x7f-\x9f]/);
    } finally {
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });
});

describe('hostile patterns (bundled CLI)', () => {
  it('refuses bad patterns and patterns files with a usage error naming them, before any request', async () => {
    const empty = join(dir, 'empty.txt');
    writeFileSync(empty, '# only a comment\n\n');
    const binary = join(dir, 'binary.bin');
    writeFileSync(binary, Buffer.from([0x7f, 0x45, 0x4c, 0x46, 0x00, 0x01]));
    const huge = join(dir, 'huge.txt');
    writeFileSync(huge, 'x'.repeat(2 * 1024 * 1024));
    const env = { BK_TOKEN: 'bkua_not_used', BK_API_URL: 'http://127.0.0.1:9' };
    const cases: [string[], RegExp][] = [
      [['--regex', '--pattern', 'a(b'], /^flake-checker: pattern "a\(b" is not a valid regular expression: .+\n$/],
      [['--pattern', ''], /^flake-checker: --pattern must not be empty\n$/],
      [
        ['--patterns-file', join(dir, 'missing.txt')],
        /^flake-checker: --patterns-file \(BK_PATTERNS_FILE\) cannot be read: ".*missing\.txt" \(no such file\)\n$/,
      ],
      [
        ['--patterns-file', dir],
        /^flake-checker: --patterns-file \(BK_PATTERNS_FILE\) cannot be read: ".*" \(it is a directory\)\n$/,
      ],
      [
        ['--patterns-file', empty],
        /^flake-checker: --patterns-file \(BK_PATTERNS_FILE\) has no patterns: ".*empty\.txt"/,
      ],
      [
        ['--patterns-file', binary],
        /^flake-checker: --patterns-file \(BK_PATTERNS_FILE\) is not a text file: ".*binary\.bin" contains NUL bytes\n$/,
      ],
      [
        ['--patterns-file', huge],
        /^flake-checker: --patterns-file \(BK_PATTERNS_FILE\) is too large: ".*huge\.txt" has 2097152 bytes, at most 1048576 are allowed\n$/,
      ],
    ];
    const results = await Promise.all(cases.map(([args]) => runCli(args, env)));
    results.forEach((res, i) => {
      expect(res.code, cases[i]![0].join(' ')).toBe(2);
      expect(res.stdout).toBe('');
      expect(res.stderr).toMatch(cases[i]![1]);
    });
  });

  it('stops a run whose pattern is too slow on a log, naming the pattern', async () => {
    const sim = await simulator({ builds: 10 });
    const slow = String.raw`\s*\S*\s*\S*\s*\S*Q`;
    const settings = settingsFor(sim, {
      maxBuilds: 10,
      branchRegex: '.*',
      step: 'v1 Test others',
      patterns: [SIGNATURES.kvTokens, slow],
      regex: true,
    });
    const error = await scan(settings, { ...fast, scanBudgetMs: 50 }).then(
      () => null,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(SlowPatternError);
    expect((error as Error).message).toBe(
      `matching one log took more than 50 ms, most of it in pattern ${JSON.stringify(slow)}: the regex likely backtracks catastrophically; make it more specific (avoid nested or adjacent unbounded repeats such as (a+)+ or .*.*)`,
    );
  });
});
