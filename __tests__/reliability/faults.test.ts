// Network and server faults against the simulator over loopback: what is retried (and how
// often), what is never retried, what waits for a rate-limit reset, how redirects, gzip, cut
// and stalled bodies are handled, and how logs that stay unreadable are reported.

import { describe, expect, it } from 'vitest';
import type { MatchRecord } from '../../src/core/types.ts';
import { ApiError } from '../../src/buildkite/errors.ts';
import { scan } from '../../src/pipeline/scan.ts';
import { SIGNATURES, type FailureMode } from '../../src/simulator/index.ts';
import { runCli } from '../support/cli.ts';
import { expectSameMatches, fast, FAST_RETRY, settingsFor, truth, useSimulators, type Query } from './support.ts';

const PATTERNS = [
  SIGNATURES.kvTokens,
  SIGNATURES.cudaIllegalAccess,
  SIGNATURES.connectionReset,
  SIGNATURES.hfReadTimeout,
];
/** About 50 logs on seed 7: small enough for many scans, big enough for every fault to show. */
const QUERY: Query = { maxBuilds: 60, branchRegex: '.*', step: 'v1 Test others', patterns: PATTERNS, regex: false };

const simulator = useSimulators({ builds: 60, logLines: [20, 80] });

describe('the same scan, clean and under injected faults', () => {
  it('reports the same matches byte for byte, with exactly one extra request per fault (bundled CLI)', async () => {
    const sim = await simulator({ builds: 30 });
    const args = [
      '--json',
      '--no-cache',
      '--max-builds',
      '30',
      '--branch-regex',
      '.*',
      '--step',
      'test',
      ...PATTERNS.flatMap((p) => ['--pattern', p]),
    ];
    const env = { BK_TOKEN: sim.token, BK_API_URL: sim.url };

    const clean = await runCli(args, env);
    expect(clean).toMatchObject({ code: 0, stderr: '' });
    expectSameMatches(JSON.parse(clean.stdout) as MatchRecord[], truth(sim, { ...QUERY, maxBuilds: 30, step: 'test' }));
    const cleanRequests = sim.stats.requests;
    expect(cleanRequests).toBeGreaterThan(150);

    sim.resetStats();
    sim.setFaults({ error5xxRate: 0.1, cutRate: 0.05, burst429: 70, burstLength: 3, slowRate: 0.1, slowMs: 40 });
    // A wider retry budget keeps "five faults in a row on one log" (p ~ 1e-4 per log) out of the test.
    const faulted = await runCli(args, { ...env, FLAKE_CHECKER_RETRIES: '8' });
    expect(faulted).toMatchObject({ code: 0, stderr: '' });
    expect(faulted.stdout).toBe(clean.stdout);

    const { status5xx, cuts, status429 } = sim.stats;
    expect(status5xx).toBeGreaterThan(5);
    expect(cuts).toBeGreaterThan(2);
    expect(status429).toBeGreaterThanOrEqual(2);
    // Every fault costs one request more, no fault costs more: no retry storm, no lost retry.
    expect(sim.stats.requests).toBe(cleanRequests + status5xx + cuts + status429);
    expect(sim.stats.byStatus[502]).toBeGreaterThan(0); // the proxy's HTML page, not JSON
  });

  it('re-reads a log cut mid-body from the start and counts its matches once (plain and gzip)', async () => {
    for (const gzip of [false, true]) {
      const sim = await simulator({ gzip, faults: { cutRate: 0.3 } });
      const report = await scan(settingsFor(sim, QUERY), fast);
      expect(sim.stats.cuts).toBeGreaterThan(5);
      expect(report.failures).toEqual([]);
      // Line numbers and counts equal the oracle's: no cut body was scanned twice or half.
      expectSameMatches(report.matches, truth(sim, QUERY));
    }
  });

  it('scans logs served as JSON ({content}) instead of text', async () => {
    const sim = await simulator({ faults: { jsonLogRate: 0.5 } });
    const report = await scan(settingsFor(sim, QUERY), fast);
    expect(report.failures).toEqual([]);
    expectSameMatches(report.matches, truth(sim, QUERY));
  });
});

describe('what is retried and what is not', () => {
  it.each<[FailureMode]>([[408], [500], [502], [503], [504], ['reset']])(
    'retries %s on the builds list, then succeeds',
    async (mode) => {
      const sim = await simulator();
      const clean = await scan(settingsFor(sim, QUERY), fast);
      sim.resetStats();
      sim.failNext('list', 2, mode);
      const report = await scan(settingsFor(sim, QUERY), fast);
      expect(sim.stats.scripted).toBe(2);
      // A page that broke off or that a gateway gave up on is asked again at half the size:
      // 60 builds, then 30, then 15 a page, so three more pages.
      const smallerPages = mode === 504 || mode === 'reset' ? 3 : 0;
      expect(sim.stats.requests).toBe(clean.stats.requests + 2 + smallerPages);
      expect(report.matches).toEqual(clean.matches);
    },
  );

  it('times out an API call that never answers, and retries it', async () => {
    const sim = await simulator();
    sim.failNext('token', 1, 'hang');
    const report = await scan(settingsFor(sim, QUERY), { http: { retry: FAST_RETRY, apiTimeoutMs: 300 } });
    expect(sim.stats.scripted).toBe(1);
    expect(sim.stats.tokenRequests).toBe(1); // the hung request never reached the router
    expectSameMatches(report.matches, truth(sim, QUERY));
  });

  it.each([[400], [401], [403], [404]])('never retries %s on the builds list', async (status) => {
    const sim = await simulator();
    sim.failNext('list', 5, status);
    const error = await scan(settingsFor(sim, QUERY), fast).then(
      () => null,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(ApiError);
    expect((error as ApiError).status).toBe(status);
    expect((error as ApiError).message).not.toContain('\n');
    // The token check and the pipeline (its default branch), then the one list request.
    expect(sim.stats.requests).toBe(3);
    expect(sim.stats.scripted).toBe(1);
  });

  it("never retries 400 or 404 on a log: a 400 is that log's failure, a 404 a missing log", async () => {
    for (const status of [400, 404]) {
      const sim = await simulator();
      sim.failNext('log', 10_000, status);
      const report = await scan(settingsFor(sim, QUERY), fast);
      const selected = report.stats.jobs_selected;
      expect(selected).toBeGreaterThan(30);
      expect(sim.stats.requests).toBe(3 + selected);
      if (status === 400) expect(report.failures).toHaveLength(selected);
      else expect(report.stats.logs_missing).toBe(selected);
    }
  });

  it('stops the run at once on a 401 or 403 for a log, without retrying it', async () => {
    for (const status of [401, 403]) {
      const sim = await simulator();
      sim.failNext('log', 10_000, status);
      const error = await scan(settingsFor(sim, QUERY, { concurrency: '4' }), fast).then(
        () => null,
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(ApiError);
      expect((error as ApiError).status).toBe(status);
      if (status === 401)
        expect((error as Error).message).toBe('Buildkite rejected the token (401): check --token (BK_TOKEN)');
      // Token check, pipeline, list, and at most the logs already in flight: queued ones never start.
      expect(sim.stats.requests).toBeLessThanOrEqual(3 + 4);
    }
  });

  it('sends nothing more once the run stops, even from requests waiting for rate-limit budget', async () => {
    // A user window of 6 a minute: token check, pipeline, list, and 3 logs go out; the rest wait for the
    // reset. The first log answers 403, which stops the run: the waiting requests give up
    // instead of going out a minute later.
    const sim = await simulator({ rateLimit: { windowMs: 60_000, orgLimit: 10_000, userLimit: 6 } });
    sim.failNext('log', 10_000, 403);
    const started = Date.now();
    const error = await scan(settingsFor(sim, QUERY, { concurrency: '8' }), fast).then(
      () => null,
      (e: unknown) => e,
    );
    expect((error as ApiError).status).toBe(403);
    expect(sim.stats.requests).toBeLessThanOrEqual(6);
    expect(Date.now() - started).toBeLessThan(30_000);
  });

  it('stops log bodies in flight when the run stops, without waiting for their idle timeout', async () => {
    const sim = await simulator({ builds: 150, faults: { stallRate: 1, stallMs: 60_000 } });
    // Page 1 of the builds list starts log downloads, which all stall mid-body; page 2 never
    // answers, and with no retries left the run stops while those bodies are silent.
    sim.failNext('list', 1, 'hang', 1);
    const started = Date.now();
    const settings = settingsFor(sim, { ...QUERY, maxBuilds: 150 }, { concurrency: '4' });
    const error = await scan(settings, { http: { retry: { ...FAST_RETRY, retries: 0 }, apiTimeoutMs: 500 } }).then(
      () => null,
      (e: unknown) => e,
    );
    expect((error as Error).message).toMatch(
      /builds\?per_page=100&include_retried_jobs=true&exclude_pipeline=true&page=2 failed: timed out waiting for response headers$/,
    );
    expect(sim.stats.stalls).toBeGreaterThan(0);
    // The default idle timeout is 30 s; nothing waited for it.
    expect(Date.now() - started).toBeLessThan(10_000);
  });

  it('gives up after the retry budget with the last reason', async () => {
    const sim = await simulator();
    sim.failNext('list', 100, 503);
    const error = await scan(settingsFor(sim, QUERY), { http: { retry: { ...FAST_RETRY, retries: 3 } } }).then(
      () => null,
      (e: unknown) => e,
    );
    expect((error as Error).message).toMatch(
      /^GET http:\/\/127\.0\.0\.1:\d+\/v2\/organizations\/vllm\/pipelines\/ci\/builds\?per_page=60&include_retried_jobs=true&exclude_pipeline=true answered 503: Service Unavailable$/,
    );
    // The token check, the pipeline, and the list tried 1 + 3 times.
    expect(sim.stats.requests).toBe(2 + 4);
  });
});

describe('rate limits', () => {
  it("paces by the windows' headers and waits for the reset, so 429s stay rare", async () => {
    // A one-second user window of 20 requests: the ~50 requests of the scan span three windows.
    const sim = await simulator({ rateLimit: { windowMs: 1000, userLimit: 20, orgLimit: 100_000 } });
    const report = await scan(settingsFor(sim, QUERY), fast);
    expect(report.stats.requests).toBeGreaterThan(2 * 20);
    expect(sim.stats.status429).toBeLessThanOrEqual(2);
    expect(report.stats.rate_limited).toBe(sim.stats.status429);
    expect(report.failures).toEqual([]);
    expectSameMatches(report.matches, truth(sim, QUERY));
  });

  it('retries each 429 of a burst once its window resets (no Retry-After is sent)', async () => {
    const sim = await simulator();
    const clean = await scan(settingsFor(sim, QUERY), fast);
    sim.resetStats();
    sim.setFaults({ burst429: 20, burstLength: 2 });
    const report = await scan(settingsFor(sim, QUERY), fast);
    expect(sim.stats.status429).toBeGreaterThanOrEqual(2);
    expect(report.stats.rate_limited).toBe(sim.stats.status429);
    expect(sim.stats.requests).toBe(clean.stats.requests + sim.stats.status429);
    expect(report.matches).toEqual(clean.matches);
  });
});

describe('transport', () => {
  it('follows redirects to another origin without the token, and accepts gzip', async () => {
    const bytesSent: number[] = [];
    let logBytes = 0;
    for (const gzip of [false, true]) {
      const sim = await simulator({ redirectLogs: true, gzip });
      const report = await scan(settingsFor(sim, QUERY), fast);
      expect(sim.stats.redirectRequests).toBe(report.stats.jobs_selected - report.stats.logs_missing);
      expect(sim.stats.redirectAuthLeaks).toBe(0);
      expect(report.failures).toEqual([]);
      expectSameMatches(report.matches, truth(sim, QUERY));
      bytesSent.push(sim.stats.bytesSent);
      logBytes = report.stats.bytes_scanned;
    }
    // Gzip was used: the log bodies of the same scan moved in less than half their size.
    expect(bytesSent[0]! - bytesSent[1]!).toBeGreaterThan(logBytes / 2);
  });

  it("treats a 403 from the redirect target (object storage) as that log's failure, not an auth error", async () => {
    const sim = await simulator({ redirectLogs: true });
    sim.failNext('redirect', 1, 403);
    const report = await scan(settingsFor(sim, QUERY), fast);
    expect(report.failures).toHaveLength(1);
    expect(report.failures[0]!.reason).toMatch(/^GET http:\/\/127\.0\.0\.1:\d+\/logs\/.+ answered 403$/);
    expect(report.stats.jobs_scanned).toBe(report.stats.jobs_selected - report.stats.logs_missing - 1);
  });

  it('gives up on a body that stalls past the idle timeout and reads it again', async () => {
    const sim = await simulator({ faults: { stallRate: 0.15, stallMs: 10_000 } });
    const report = await scan(settingsFor(sim, QUERY), { http: { retry: FAST_RETRY, idleTimeoutMs: 150 } });
    expect(sim.stats.stalls).toBeGreaterThan(1);
    expect(report.failures).toEqual([]);
    expectSameMatches(report.matches, truth(sim, QUERY));
  });

  it('completes a big log on a slow but steady link whatever its total time', async () => {
    const bytes = 3 * 1024 * 1024;
    const sim = await simulator({ builds: 20, bigLogs: { count: 1, bytes }, bandwidth: 3 * 1024 * 1024 });
    const query = { ...QUERY, maxBuilds: 20 };
    const idleTimeoutMs = 250;
    const started = Date.now();
    const report = await scan(settingsFor(sim, query), { http: { retry: FAST_RETRY, idleTimeoutMs } });
    // The transfer alone outlasts the idle timeout several times over: only silence times out.
    expect(Date.now() - started).toBeGreaterThan(3 * idleTimeoutMs);
    expect(report.failures).toEqual([]);
    expect(report.stats.bytes_scanned).toBeGreaterThan(bytes);
    expectSameMatches(report.matches, truth(sim, query));
  });
});

describe('logs that cannot be fetched after retries (bundled CLI)', () => {
  it('are reported with count and reason; exit 0, or 1 with --strict', async () => {
    const sim = await simulator();
    sim.setFaults({ failLogRate: 0.25 });
    const env = { BK_TOKEN: sim.token, BK_API_URL: sim.url };
    const args = [
      '--no-cache',
      '--max-builds',
      '60',
      '--branch-regex',
      '.*',
      ...PATTERNS.flatMap((p) => ['--pattern', p]),
    ];
    const broken = sim.dataset.builds
      .flatMap((b) => b.jobs)
      .filter(
        (j) =>
          j.type === 'script' &&
          j.started_at &&
          /v1 test others/i.test(j.name ?? '') &&
          sim.dataset.logExists(j.id) &&
          sim.brokenLog(j.id),
      );
    expect(broken.length).toBeGreaterThan(3);
    const expected = truth(sim, QUERY).filter((m) => !sim.brokenLog(m.job_id));

    const human = await runCli(args, env);
    expect(human.code).toBe(0);
    expect(human.stdout).toContain(`\nCould not fetch ${broken.length} logs:\n`);
    expect(human.stdout).toMatch(
      /\n- #\d+ .+ \([0-9a-f-]{36}\): GET http:\/\/127\.0\.0\.1:\d+\/v2\/.+\/log\.txt answered 503: Service Unavailable\n/,
    );
    expect(human.stderr).toBe(`flake-checker: warning: ${broken.length} logs could not be fetched\n`);
    // Each broken log was tried 1 + 4 times (the default budget), no more.
    expect(sim.stats.byStatus[503]).toBe(broken.length * 5);

    const json = await runCli(['--json', ...args], env);
    expect(json.code).toBe(0);
    expectSameMatches(JSON.parse(json.stdout) as MatchRecord[], expected);
    expect(json.stderr.split('\n')[0]).toBe(`flake-checker: warning: ${broken.length} logs could not be fetched`);
    expect(json.stderr).toContain('answered 503');

    const strict = await runCli(['--strict', ...args], env);
    expect(strict.code).toBe(1);
    expect(strict.stdout).toContain(`Could not fetch ${broken.length} logs:`);
    expect(strict.stderr).toBe(
      `flake-checker: warning: ${broken.length} logs could not be fetched (--strict: failing)\n`,
    );
  });
});
