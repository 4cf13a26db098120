// The GitHub client the tracker (and the PR comment) goes through, against the local stand-in:
// what it tries again, how long it waits, and what it never retries.

import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  createGitHubClient,
  gitHubClientOverridesFromEnv,
  GitHubApiError,
  toGitHubApiError,
  type GitHubClientOptions,
} from '../../src/action/github-client.ts';
import { commentMarker, createIssueComments, syncComment } from '../../src/action/pr-comment.ts';
import { startGitHubStub, type GitHubStub } from '../support/github-stub.ts';

const repo = { owner: 'acme', repo: 'widgets' };

let github: GitHubStub;
let logs: string[];
beforeEach(async () => {
  github = await startGitHubStub({ ...repo, tokens: { 'ghs-write': 'write', 'ghs-read': 'read' } });
  logs = [];
});
afterEach(async () => {
  await github.close();
});

function client(token = 'ghs-write', options: GitHubClientOptions = {}) {
  return createGitHubClient(token, { baseUrl: github.url, secondMs: 1, log: (m) => logs.push(m), ...options });
}

const list = (octokit = client()) => octokit.rest.issues.listForRepo({ ...repo, state: 'open' });
const create = (octokit = client()) => octokit.rest.issues.create({ ...repo, title: 'Flaky tests', body: 'body' });
const sent = (method: string) => github.requests.filter((r) => r.method === method).length;

describe('createGitHubClient', () => {
  it('tries 5xx answers and dropped connections again, up to its retries', async () => {
    github.fault({ method: 'GET' }, { kind: 'status', status: 502 }, 2);
    github.fault({ method: 'GET' }, { kind: 'network' }, 1);
    await expect(list()).resolves.toMatchObject({ status: 200 });
    expect(sent('GET')).toBe(4);

    github.fault({ method: 'GET' }, { kind: 'status', status: 503 }, 10);
    const error = toGitHubApiError(await list().catch((e: unknown) => e));
    expect(error).toMatchObject({ status: 503, method: 'GET' });
    expect(sent('GET')).toBe(4 + 4);
  });

  it('waits out a secondary rate limit for as long as retry-after says, scaled', async () => {
    // retry-after: 30 at secondMs 1 lasts 30 ms: the test does not sleep 30 s.
    github.fault({ method: 'POST' }, { kind: 'secondary', retryAfter: 30 }, 1);
    const started = Date.now();
    await expect(create()).resolves.toMatchObject({ status: 201 });
    expect(Date.now() - started).toBeLessThan(5000);
    expect(sent('POST')).toBe(2);
    expect(github.issues).toHaveLength(1);
    expect(logs).toEqual([
      'GitHub secondary rate limit on POST /repos/{owner}/{repo}/issues: waiting 30 s (retry 1 of 3)',
    ]);
  });

  it('waits for the primary rate limit to reset, on a 403 or a 429, and tries once more', async () => {
    github.fault({ method: 'GET' }, { kind: 'primary', status: 403, resetInSeconds: 1 }, 1);
    github.fault({ method: 'POST' }, { kind: 'primary', status: 429, resetInSeconds: 1 }, 1);
    await expect(list()).resolves.toMatchObject({ status: 200 });
    await expect(create()).resolves.toMatchObject({ status: 201 });
    // One retry each: plugin-retry leaves 429 to the throttling, so nothing is tried twice over.
    expect([sent('GET'), sent('POST')]).toEqual([2, 2]);
    expect(logs).toHaveLength(2);
    expect(logs[0]).toMatch(/^GitHub rate limit on GET \/repos\/\{owner\}\/\{repo\}\/issues: waiting [1-3] s/);
  });

  it('gives up at once on a wait longer than its cap, and after its retries on a limit that stays', async () => {
    github.fault({ method: 'GET' }, { kind: 'primary', resetInSeconds: 3600 }, 1);
    const error = toGitHubApiError(await list().catch((e: unknown) => e));
    expect(error.message).toMatch(/^GitHub answered HTTP 403 to GET .*: API rate limit exceeded for installation/);
    expect(sent('GET')).toBe(1);
    expect(logs).toEqual([expect.stringMatching(/: it asks to wait 360[01] s, more than 120 s; giving up$/)]);

    github.fault({ method: 'POST' }, { kind: 'secondary' }, 10);
    await expect(create(client('ghs-write', { retries: 2 }))).rejects.toThrow(/secondary rate limit/);
    expect(sent('POST')).toBe(3);
    expect(logs.at(-1)).toMatch(/still limited after 2 retries; giving up$/);
  });

  it('never retries a 403 that is a refusal, nor a 404 or a 422', async () => {
    const refused = toGitHubApiError(await create(client('ghs-read')).catch((e: unknown) => e));
    expect(refused).toBeInstanceOf(GitHubApiError);
    expect(refused.status).toBe(403);
    expect(refused.message).toBe(
      `GitHub answered HTTP 403 to POST ${github.url}/repos/acme/widgets/issues: ` +
        'Resource not accessible by integration.',
    );
    expect(sent('POST')).toBe(1);

    await expect(client().rest.issues.get({ ...repo, issue_number: 12345 })).rejects.toMatchObject({ status: 404 });
    await expect(client().rest.issues.create({ ...repo, title: '' })).rejects.toMatchObject({ status: 422 });
    expect(github.requests).toHaveLength(3);
    expect(logs).toEqual([]);
  });

  it('names the real cause of a network failure, and not the token', async () => {
    // A port nothing listens on.
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    await new Promise((resolve) => server.close(resolve));
    const baseUrl = `http://127.0.0.1:${port}`;
    const octokit = createGitHubClient('ghs-secret-token', { baseUrl, secondMs: 0, retries: 1 });
    const error = toGitHubApiError(await list(octokit).catch((e: unknown) => e));
    expect(error.status).toBeNull();
    expect(error.message).toBe(
      `GitHub failed to GET ${baseUrl}/repos/acme/widgets/issues?state=open: ECONNREFUSED 127.0.0.1:${port}.`,
    );
    expect(JSON.stringify(error) + error.message).not.toContain('ghs-secret-token');
  });

  it('serves the sticky PR comment too, through a 502 and a secondary rate limit', async () => {
    const marker = commentMarker({ org: 'vllm', pipeline: 'ci', step: 'V1 Test others' });
    const comments = createIssueComments(client(), { ...repo, issueNumber: 7 });
    github.fault({ method: 'GET', path: /\/comments$/ }, { kind: 'status', status: 502 }, 1);
    github.fault({ method: 'POST', path: /\/comments$/ }, { kind: 'secondary' }, 1);
    const request = { mode: 'always', hasMatches: true, marker, body: `${marker}\nrun 1` } as const;
    expect(await syncComment(comments, request)).toBe('created');
    expect(github.on(7).map((c) => c.body)).toEqual([`${marker}\nrun 1`]);
  });

  it('takes its second from FLAKE_CHECKER_GITHUB_RETRY_MS, for tests and fault injection', () => {
    expect(gitHubClientOverridesFromEnv({})).toEqual({});
    expect(gitHubClientOverridesFromEnv({ FLAKE_CHECKER_GITHUB_RETRY_MS: '0' })).toEqual({ secondMs: 0 });
    expect(gitHubClientOverridesFromEnv({ FLAKE_CHECKER_GITHUB_RETRY_MS: '25' })).toEqual({ secondMs: 25 });
    expect(() => gitHubClientOverridesFromEnv({ FLAKE_CHECKER_GITHUB_RETRY_MS: 'fast' })).toThrow(
      'FLAKE_CHECKER_GITHUB_RETRY_MS must be a whole number of ms from 0 to 1000, got "fast"',
    );
  });
});
