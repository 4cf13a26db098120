// The Buildkite token appears in no output on any error path, and travels only to the API host.

import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { scan } from '../../src/pipeline/scan.ts';
import { SIGNATURES } from '../../src/simulator/index.ts';
import { runCli, type CliResult } from '../support/cli.ts';
import { fast, settingsFor, useSimulators } from './support.ts';

const simulator = useSimulators({ builds: 40, logLines: [20, 60] });

const ARGS = ['--no-cache', '--max-builds', '40', '--branch-regex', '.*', '--pattern', SIGNATURES.kvTokens];

function expectNoToken(result: CliResult, token: string): void {
  expect(result.stdout).not.toContain(token);
  expect(result.stderr).not.toContain(token);
}

describe('the token never appears in output', () => {
  it('on a rejected token (401), a refused connection, and 5xx until the retries run out', async () => {
    const sim = await simulator({ faults: { echoAuth: true } });
    const wrong = 'bkua_0123456789abcdef0123456789abcdef01234567';
    const rejected = await runCli(ARGS, { BK_TOKEN: wrong, BK_API_URL: sim.url });
    expect(rejected.code).toBe(1);
    expectNoToken(rejected, wrong);

    const refused = await runCli(ARGS, { BK_TOKEN: sim.token, BK_API_URL: 'http://127.0.0.1:9' });
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('ECONNREFUSED');
    expectNoToken(refused, sim.token);

    // A proxy that echoes the Authorization header into its 500 body, every time.
    sim.failNext('list', 100, 500);
    const exhausted = await runCli(['--json', ...ARGS], { BK_TOKEN: sim.token, BK_API_URL: sim.url });
    expect(exhausted.code).toBe(1);
    expect(exhausted.stderr).toMatch(
      /answered 500: Internal Server Error \(request had Authorization: Bearer \*\*\*\)\n$/,
    );
    expectNoToken(exhausted, sim.token);
  });

  it('in per-log failure reasons, in the human report, the JSON warnings and the report data', async () => {
    const sim = await simulator({ faults: { echoAuth: true, failLogRate: 0.3 } });
    const env = { BK_TOKEN: sim.token, BK_API_URL: sim.url };
    for (const args of [ARGS, ['--json', ...ARGS]]) {
      const res = await runCli(args, env);
      expect(res.code).toBe(0);
      expect(`${res.stdout}${res.stderr}`).toContain('Bearer ***');
      expectNoToken(res, sim.token);
    }
    const report = await scan(
      settingsFor(sim, {
        maxBuilds: 40,
        branchRegex: '.*',
        step: 'v1 Test others',
        patterns: [SIGNATURES.kvTokens],
        regex: false,
      }),
      fast,
    );
    expect(report.failures.length).toBeGreaterThan(0);
    expect(JSON.stringify(report)).not.toContain(sim.token);
  });
});

describe('the token goes to the API host only', () => {
  it('is not sent to the redirect target of a log', async () => {
    const sim = await simulator({ redirectLogs: true });
    const res = await runCli(['--json', ...ARGS], { BK_TOKEN: sim.token, BK_API_URL: sim.url });
    expect(res.code).toBe(0);
    expect(sim.stats.redirectRequests).toBeGreaterThan(10);
    // Neither as a header nor anywhere in the request.
    expect(sim.stats.redirectAuthLeaks).toBe(0);
  });

  it('does not follow a next-page link to another host', async () => {
    const token = 'bkua_next_link_test_token_0123456789abcdef';
    const elsewhere: IncomingHttpHeaders[] = [];
    const other = createServer((req, res) => {
      elsewhere.push(req.headers);
      res.end('[]');
    });
    const api = createServer((req, res) => {
      res.setHeader('content-type', 'application/json');
      if (req.url === '/v2/access-token') return res.end('{"scopes":["read_builds","read_build_logs"]}');
      res.setHeader(
        'link',
        `<http://localhost:${(other.address() as AddressInfo).port}/v2/organizations/vllm/pipelines/ci/builds?page=2>; rel="next"`,
      );
      res.end('[{"number":1,"jobs":[]}]');
    });
    for (const server of [api, other]) await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const res = await runCli(['--max-builds', '200'], {
        BK_TOKEN: token,
        BK_API_URL: `http://127.0.0.1:${(api.address() as AddressInfo).port}`,
      });
      expect(res.code).toBe(1);
      expect(res.stderr).toMatch(/gave a next-page link to another host \(http:\/\/localhost:\d+\); not followed\n$/);
      expect(elsewhere).toEqual([]);
      expectNoToken(res, token);
    } finally {
      for (const server of [api, other]) await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });
});
