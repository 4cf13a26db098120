// The simulator over real HTTP on loopback: the API facts of docs/buildkite-api.md it must honour.

import { request } from 'node:http';
import { gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  expectedMatches,
  startSimulator,
  type SimBuild,
  type SimJob,
  type SimPipeline,
  type Simulator,
} from '../../src/simulator/index.ts';
import { DEFAULT_QUERY } from '../support/default-query.ts';
import { peakRssGrowth } from '../support/memory.ts';

let sim: Simulator;
let base: string;

beforeAll(async () => {
  sim = await startSimulator({ builds: 80, seed: 7 });
  base = `${sim.url}/v2/organizations/vllm/pipelines/ci`;
});
afterAll(() => sim.close());

const auth = (token = sim.token): Record<string, string> => ({ Authorization: `Bearer ${token}` });

async function getJson<T>(
  url: string,
  headers: Record<string, string> = auth(),
): Promise<{ status: number; body: T; res: Response }> {
  const res = await fetch(url, { headers });
  return { status: res.status, body: (await res.json()) as T, res };
}

function scriptJobWithLog(predicate: (j: SimJob) => boolean = () => true): { build: SimBuild; job: SimJob } {
  for (const build of sim.dataset.builds) {
    for (const job of build.jobs) {
      if (
        job.type === 'script' &&
        sim.dataset.logExists(job.id) &&
        sim.dataset.logSize(job.id) > 2000 &&
        predicate(job)
      )
        return { build, job };
    }
  }
  throw new Error('no such job');
}

/** Raw HTTP GET without any transparent decoding or redirect following. */
function rawGet(
  url: string,
  headers: Record<string, string>,
): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: Buffer }> {
  return new Promise((resolve, reject) => {
    request(url, { headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
      res.on('error', reject);
    })
      .on('error', reject)
      .end();
  });
}

describe('authentication', () => {
  it('answers 401 with the documented body without a bearer token', async () => {
    const message =
      'Authentication required. Please supply a valid API Access Token: https://buildkite.com/docs/apis/rest-api#authentication';
    for (const headers of [
      {},
      auth('bkua_wrong'),
      { Authorization: `Basic ${Buffer.from(`${sim.token}:`).toString('base64')}` },
    ]) {
      const { status, body } = await getJson(`${base}/builds`, headers);
      expect(status).toBe(401);
      expect(body).toEqual({ message });
    }
    expect((await fetch(`${base}/builds?access_token=${sim.token}`)).status).toBe(401);
  });

  it('describes the token without needing a scope', async () => {
    const { status, body } = await getJson<{ scopes: string[]; uuid: string; user: unknown }>(
      `${sim.url}/v2/access-token`,
      auth(sim.tokens.noBuildScope),
    );
    expect(status).toBe(200);
    expect(body.scopes).toEqual(['read_build_logs']);
    expect(body.uuid).toMatch(/^[0-9a-f-]{36}$/);
    expect(body.user).toBeTruthy();
  });

  it('answers 403 naming the missing scope', async () => {
    const builds = await getJson(`${base}/builds`, auth(sim.tokens.noBuildScope));
    expect(builds).toMatchObject({
      status: 403,
      body: { message: "Your access token doesn't have the read_builds scope" },
    });
    const { build, job } = scriptJobWithLog();
    const log = await getJson(`${base}/builds/${build.number}/jobs/${job.id}/log`, auth(sim.tokens.noLogScope));
    expect(log).toMatchObject({
      status: 403,
      body: { message: "Your access token doesn't have the read_build_logs scope" },
    });
  });
});

describe('not found', () => {
  it('answers 404 with Buildkite messages', async () => {
    expect(await getJson(`${sim.url}/v2/organizations/nope/pipelines/ci/builds`)).toMatchObject({
      status: 404,
      body: { message: 'No organization found' },
    });
    expect(await getJson(`${sim.url}/v2/organizations/vllm/pipelines/nope/builds`)).toMatchObject({
      status: 404,
      body: { message: 'No pipeline found' },
    });
    expect((await getJson(`${base}/builds/1`)).status).toBe(404);
    expect((await getJson(`${sim.url}/v2/nothing/here`)).status).toBe(404);
  });
});

describe('the pipeline', () => {
  it('answers the pipeline object with its default branch and repository', async () => {
    const before = sim.stats.pipelineRequests;
    const { status, body } = await getJson<SimPipeline>(base);
    expect(status).toBe(200);
    expect(body).toMatchObject({
      slug: 'ci',
      name: 'ci',
      default_branch: 'main',
      repository: 'https://github.com/vllm-project/vllm.git',
      web_url: 'https://buildkite.com/vllm/ci',
      url: base,
      builds_url: `${base}/builds`,
    });
    expect(body.id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(sim.stats.pipelineRequests).toBe(before + 1);
  });

  it('answers 404 for an unknown pipeline or organization, 403 without read_pipelines, else 401', async () => {
    expect(await getJson(`${sim.url}/v2/organizations/vllm/pipelines/nope`)).toMatchObject({
      status: 404,
      body: { message: 'No pipeline found' },
    });
    expect(await getJson(`${sim.url}/v2/organizations/nope/pipelines/ci`)).toMatchObject({
      status: 404,
      body: { message: 'No organization found' },
    });
    expect(await getJson(base, auth(sim.tokens.noBuildScope))).toMatchObject({
      status: 403,
      body: { message: "Your access token doesn't have the read_pipelines scope" },
    });
    expect((await getJson(base, {})).status).toBe(401);
  });

  it('is a request kind of its own for scripted failures, and carries the rate-limit headers', async () => {
    sim.failNext('pipeline', 1, 503);
    expect((await fetch(`${base}/builds?per_page=1`, { headers: auth() })).status).toBe(200);
    expect((await fetch(base, { headers: auth() })).status).toBe(503);
    const res = await fetch(base, { headers: auth() });
    expect(res.status).toBe(200);
    expect(res.headers.get('ratelimit-remaining')).toMatch(/^\d+$/);
  });

  it('runs default-branch builds on the defaultBranch option, planted flakes included', async () => {
    const trunk = await startSimulator({ builds: 80, seed: 7, defaultBranch: 'trunk' });
    try {
      const headers = { Authorization: `Bearer ${trunk.token}` };
      const pipeline = (await getJson<SimPipeline>(`${trunk.url}/v2/organizations/vllm/pipelines/ci`, headers)).body;
      expect(pipeline.default_branch).toBe('trunk');
      const builds = trunk.dataset.builds;
      expect(builds.filter((b) => b.branch === 'trunk').length).toBe(
        sim.dataset.builds.filter((b) => b.branch === 'main').length,
      );
      expect(builds.some((b) => b.branch === 'main')).toBe(false);
      const prs = builds.filter((b) => b.pull_request && 'id' in b.pull_request);
      expect(prs.every((b) => (b.pull_request as { base: string }).base === 'trunk')).toBe(true);
      const query = { ...DEFAULT_QUERY, maxBuilds: 80, branchRegex: '^trunk$' };
      expect(expectedMatches(trunk.dataset, query).length).toBeGreaterThan(0);
    } finally {
      await trunk.close();
    }
  });
});

describe('listing builds', () => {
  it('pages newest first through Link rel="next" and covers every build once', async () => {
    const numbers: number[] = [];
    let url: string | null = `${base}/builds?per_page=25`;
    let pages = 0;
    while (url) {
      const { status, body, res }: { status: number; body: SimBuild[]; res: Response } = await getJson<SimBuild[]>(url);
      expect(status).toBe(200);
      numbers.push(...body.map((b) => b.number));
      const link: string = res.headers.get('link') ?? '';
      expect(link).toMatch(/^(<[^>]+>; rel="(prev|next|first|last)"(, )?)+$/);
      url = /<([^>]+)>; rel="next"/.exec(link)?.[1] ?? null;
      if (!url) expect(link).toContain('rel="first"');
      pages++;
    }
    expect(pages).toBe(4);
    expect(numbers).toEqual(sim.dataset.builds.map((b) => b.number));
    expect([...numbers].sort((a, b) => b - a)).toEqual(numbers);
  });

  it('defaults per_page to 30, clamps it to 100 and refuses deep pages', async () => {
    expect((await getJson<SimBuild[]>(`${base}/builds`)).body).toHaveLength(30);
    expect((await getJson<SimBuild[]>(`${base}/builds?per_page=500`)).body).toHaveLength(80);
    expect((await getJson<SimBuild[]>(`${base}/builds?page=9`)).body).toEqual([]);
    expect(await getJson(`${base}/builds?page=51`)).toMatchObject({
      status: 400,
      body: {
        message:
          'Listing builds this deep is not supported. Please narrow your query using filters such as branch or created_from.',
      },
    });
  });

  it('hides retried attempts unless include_retried_jobs=true', async () => {
    const hidden = (await getJson<SimBuild[]>(`${base}/builds?per_page=100`)).body.flatMap((b) => b.jobs);
    const shown = (await getJson<SimBuild[]>(`${base}/builds?per_page=100&include_retried_jobs=true`)).body.flatMap(
      (b) => b.jobs,
    );
    expect(hidden.some((j) => j.retried)).toBe(false);
    const retried = shown.filter((j) => j.retried);
    expect(retried.length).toBeGreaterThan(0);
    const ids = new Set(shown.map((j) => j.id));
    for (const job of retried) {
      expect(ids.has(job.retried_in_job_id as string)).toBe(true);
      expect(job.state).toBe('failed');
      expect([1, -1]).toContain(job.exit_status);
    }
    expect(shown.length - hidden.length).toBe(retried.length);
  });

  it('filters by branch (with wildcards) and state', async () => {
    const main = (await getJson<SimBuild[]>(`${base}/builds?per_page=100&branch=main`)).body;
    expect(main.length).toBeGreaterThan(0);
    expect(main.every((b) => b.branch === 'main')).toBe(true);
    const feature = (await getJson<SimBuild[]>(`${base}/builds?per_page=100&branch=feature/*`)).body;
    expect(feature.length).toBeGreaterThan(0);
    expect(feature.every((b) => b.branch.startsWith('feature/'))).toBe(true);
    const failed = (await getJson<SimBuild[]>(`${base}/builds?per_page=100&state[]=failed`)).body;
    expect(failed.length).toBeGreaterThan(0);
    expect(failed.every((b) => b.state === 'failed')).toBe(true);
  });

  it('embeds realistic jobs: script names, block labels, waiters, unstarted jobs', () => {
    const jobs = sim.dataset.builds.flatMap((b) => b.jobs);
    const script = jobs.filter((j) => j.type === 'script');
    expect(script.every((j) => j.label === undefined && typeof j.name === 'string')).toBe(true);
    expect(jobs.some((j) => j.type === 'manual' && /^Run /.test(j.label ?? ''))).toBe(true);
    expect(jobs.some((j) => j.type === 'waiter')).toBe(true);
    expect(script.some((j) => j.started_at === null)).toBe(true);
    expect(script.some((j) => /v1 test others/i.test(j.name ?? ''))).toBe(true);
    const prs = sim.dataset.builds.filter((b) => b.pull_request && 'id' in b.pull_request);
    expect(prs.some((b) => /^[^:/]+:/.test(b.branch))).toBe(true);
    expect(sim.dataset.builds.some((b) => b.pull_request === null)).toBe(true);
    expect(sim.dataset.builds.some((b) => b.pull_request !== null && Object.keys(b.pull_request).length === 0)).toBe(
      true,
    );
  });
});

describe('one build and its jobs', () => {
  it('returns one build, hiding retried attempts by default', async () => {
    const build = sim.dataset.builds.find((b) => b.jobs.some((j) => j.retried)) as SimBuild;
    const one = (await getJson<SimBuild>(`${base}/builds/${build.number}`)).body;
    expect(one.number).toBe(build.number);
    expect(one.jobs.some((j) => j.retried)).toBe(false);
  });

  it('serves the cursor-paged jobs endpoint with retried attempts by default', async () => {
    const build = sim.dataset.builds.find((b) => b.jobs.some((j) => j.retried) && b.jobs.length > 3) as SimBuild;
    const ids: string[] = [];
    let url: string | null = `${base}/builds/${build.number}/jobs?per_page=3`;
    while (url) {
      const { body }: { body: { items: SimJob[]; links: { self: string; next: string | null } } } = await getJson(url);
      expect(body.links.self).toBe(url);
      ids.push(...body.items.map((j) => j.id));
      url = body.links.next;
    }
    expect(ids).toEqual(build.jobs.map((j) => j.id));
    const hidden = (
      await getJson<{ items: SimJob[] }>(`${base}/builds/${build.number}/jobs?per_page=100&include_retried_jobs=false`)
    ).body;
    expect(hidden.items.some((j) => j.retried)).toBe(false);
  });
});

describe('logs', () => {
  it('answers JSON on /log, text with Accept: text/plain and on log.txt', async () => {
    const { build, job } = scriptJobWithLog();
    const bytes = Buffer.concat([...sim.dataset.logChunks(job.id)]);
    const json = await getJson<{ url: string; content: string; size: number; header_times: number[] }>(
      job.log_url as string,
    );
    expect(json.res.headers.get('content-type')).toMatch(/^application\/json/);
    expect(json.body.url).toBe(job.log_url);
    expect(json.body.content).toBe(new TextDecoder().decode(bytes));
    expect(json.body.size).toBe(bytes.length);
    expect(json.body.header_times.length).toBeGreaterThan(0);

    const text = await fetch(`${base}/builds/${build.number}/jobs/${job.id}/log`, {
      headers: { ...auth(), Accept: 'text/plain' },
    });
    expect(text.headers.get('content-type')).toMatch(/^text\/plain/);
    expect(Buffer.from(await text.arrayBuffer())).toEqual(bytes);
    const txt = await fetch(job.raw_log_url as string, { headers: auth() });
    expect(txt.headers.get('content-type')).toMatch(/^text\/plain/);
    expect(Buffer.from(await txt.arrayBuffer())).toEqual(bytes);
  });

  it('gives Content-Length on HEAD and the tail on Range: bytes=-N', async () => {
    const { job } = scriptJobWithLog();
    const bytes = Buffer.concat([...sim.dataset.logChunks(job.id)]);
    const head = await fetch(job.raw_log_url as string, { method: 'HEAD', headers: auth() });
    expect(head.status).toBe(200);
    expect(Number(head.headers.get('content-length'))).toBe(bytes.length);
    const tail = await fetch(job.raw_log_url as string, { headers: { ...auth(), Range: 'bytes=-500' } });
    expect(tail.status).toBe(206);
    expect(tail.headers.get('content-range')).toBe(`bytes ${bytes.length - 500}-${bytes.length - 1}/${bytes.length}`);
    expect(Buffer.from(await tail.arrayBuffer())).toEqual(bytes.subarray(bytes.length - 500));
    const middle = await fetch(job.raw_log_url as string, { headers: { ...auth(), Range: 'bytes=100-199' } });
    expect(middle.status).toBe(206);
    expect(Buffer.from(await middle.arrayBuffer())).toEqual(bytes.subarray(100, 200));
    const beyond = await fetch(job.raw_log_url as string, { headers: { ...auth(), Range: `bytes=${bytes.length}-` } });
    expect(beyond.status).toBe(416);
    expect(beyond.headers.get('content-range')).toBe(`bytes */${bytes.length}`);
  });

  it('answers 404 for expired logs, jobs without logs and jobs of another build', async () => {
    const jobs = sim.dataset.builds.flatMap((b) => b.jobs.map((j) => ({ b, j })));
    const expired = jobs.find(({ j }) => j.type === 'script' && j.started_at && !sim.dataset.logExists(j.id));
    const unstarted = jobs.find(({ j }) => j.type === 'script' && !j.started_at);
    const waiter = jobs.find(({ j }) => j.type === 'waiter');
    for (const found of [expired, unstarted, waiter]) {
      expect(found).toBeDefined();
      const { b, j } = found as { b: SimBuild; j: SimJob };
      expect(await getJson(`${base}/builds/${b.number}/jobs/${j.id}/log.txt`)).toMatchObject({
        status: 404,
        body: { message: 'No job found' },
      });
    }
    const { job } = scriptJobWithLog();
    const other = sim.dataset.builds.find((b) => !b.jobs.includes(job)) as SimBuild;
    expect((await getJson(`${base}/builds/${other.number}/jobs/${job.id}/log`)).status).toBe(404);
  });

  it('serves empty logs as an empty 200', async () => {
    const big = await startSimulator({ builds: 300, seed: 7, jobsPerBuild: [3, 5], logLines: [40, 60] });
    try {
      const job = big.dataset.builds
        .flatMap((b) => b.jobs)
        .find((j) => big.dataset.logExists(j.id) && big.dataset.logSize(j.id) === 0) as SimJob;
      expect(job).toBeDefined();
      const res = await fetch(job.raw_log_url as string, { headers: { Authorization: `Bearer ${big.token}` } });
      expect(res.status).toBe(200);
      expect(await res.text()).toBe('');
      expect([...big.dataset.cleanLines(job.id)]).toEqual([]);
    } finally {
      await big.close();
    }
  });
});

describe('rate limits', () => {
  it('sends both windows on every response and 429 with a body but no Retry-After', async () => {
    let clock = 1_000_000;
    const limited = await startSimulator({
      builds: 5,
      rateLimit: { userLimit: 3, orgLimit: 100, windowMs: 60_000 },
      now: () => clock,
    });
    try {
      const url = `${limited.url}/v2/organizations/vllm/pipelines/ci/builds`;
      const headers = { Authorization: `Bearer ${limited.token}` };
      for (let i = 1; i <= 3; i++) {
        const res = await fetch(url, { headers });
        expect(res.status).toBe(200);
        expect(res.headers.get('ratelimit-user-remaining')).toBe(String(3 - i));
        expect(res.headers.get('ratelimit-remaining')).toBe(String(100 - i));
        expect(res.headers.get('ratelimit-limit')).toBe('100');
        expect(res.headers.get('ratelimit-scope')).toBe('rest_org');
        expect(res.headers.get('ratelimit-reset')).toBe(String(70 - i * 10));
        clock += 10_000;
      }
      const res = await fetch(url, { headers });
      expect(res.status).toBe(429);
      expect(res.headers.get('retry-after')).toBeNull();
      expect(res.headers.get('ratelimit-user-reset')).toBe('30');
      expect(res.headers.get('ratelimit-user-warning')).toBeTruthy();
      expect(await res.json()).toEqual({
        message: expect.stringMatching(/^You have exceeded your API rate limit\. Please wait 30 seconds/),
        scope: 'rest_user',
        limit: 3,
        current: 4,
        reset: 30,
      });
      clock += 30_000;
      expect((await fetch(url, { headers })).status).toBe(200);
      expect(limited.stats.status429).toBe(1);
    } finally {
      await limited.close();
    }
  });

  it('limits the organization window too', async () => {
    const limited = await startSimulator({ builds: 5, rateLimit: { orgLimit: 2 } });
    try {
      const headers = { Authorization: `Bearer ${limited.token}` };
      const statuses: number[] = [];
      for (let i = 0; i < 3; i++) statuses.push((await fetch(`${limited.url}/v2/access-token`, { headers })).status);
      expect(statuses).toEqual([200, 200, 429]);
      const res = await fetch(`${limited.url}/v2/access-token`, { headers });
      expect(await res.json()).toMatchObject({ scope: 'rest_org', limit: 2, current: 4 });
      expect(res.headers.get('ratelimit-warning')).toBeTruthy();
    } finally {
      await limited.close();
    }
  });
});

describe('faults', () => {
  it('answers 5xx, the 502 as a proxy HTML page', async () => {
    sim.setFaults({ error5xxRate: 1 });
    try {
      const seen = new Map<number, string>();
      for (let i = 0; i < 30; i++) {
        const res = await fetch(`${sim.url}/v2/access-token`, { headers: auth() });
        seen.set(res.status, `${res.headers.get('content-type')} ${await res.text()}`);
      }
      expect([...seen.keys()].sort()).toEqual([500, 502, 503]);
      expect(seen.get(502)).toMatch(/^text\/html <html>/);
      expect(seen.get(503)).toMatch(/^application\/json/);
    } finally {
      sim.setFaults({ error5xxRate: 0 });
    }
  });

  it('cuts log downloads mid-body', async () => {
    const { job } = scriptJobWithLog();
    sim.setFaults({ cutRate: 1 });
    const before = sim.stats.cuts;
    try {
      const res = await fetch(job.raw_log_url as string, { headers: auth() });
      expect(res.status).toBe(200);
      await expect(res.arrayBuffer()).rejects.toThrow();
      expect(sim.stats.cuts).toBe(before + 1);
    } finally {
      sim.setFaults({ cutRate: 0 });
    }
  });

  it('stalls log bodies partway, then finishes them', async () => {
    const { job } = scriptJobWithLog();
    sim.setFaults({ stallRate: 1, stallMs: 150 });
    const before = sim.stats.stalls;
    try {
      const started = Date.now();
      const res = await fetch(job.raw_log_url as string, { headers: auth() });
      const body = Buffer.from(await res.arrayBuffer());
      expect(body).toEqual(Buffer.concat([...sim.dataset.logChunks(job.id)]));
      expect(sim.stats.stalls).toBe(before + 1);
      expect(Date.now() - started).toBeGreaterThanOrEqual(140);
    } finally {
      sim.setFaults({ stallRate: 0, stallMs: 0 });
    }
  });

  it('answers scripted failures for the next requests of one kind, then behaves again', async () => {
    const { build, job } = scriptJobWithLog();
    sim.failNext('list', 2, 502);
    sim.failNext('log', 1, 408);
    sim.failNext('token', 1, 'reset');
    expect((await fetch(`${base}/builds`, { headers: auth() })).status).toBe(502);
    expect((await fetch(`${base}/builds/${build.number}/jobs/${job.id}/log.txt`, { headers: auth() })).status).toBe(
      408,
    );
    await expect(fetch(`${sim.url}/v2/access-token`, { headers: auth() })).rejects.toThrow();
    expect((await fetch(`${base}/builds`, { headers: auth() })).status).toBe(502);
    expect((await fetch(`${base}/builds`, { headers: auth() })).status).toBe(200);
    expect((await fetch(`${sim.url}/v2/access-token`, { headers: auth() })).status).toBe(200);
  });

  it('breaks the same logs on every request with failLogRate, echoing Authorization with echoAuth', async () => {
    sim.setFaults({ failLogRate: 0.5, echoAuth: true });
    try {
      const jobs = sim.dataset.builds
        .flatMap((b) => b.jobs.map((j) => ({ b, j })))
        .filter(({ j }) => sim.dataset.logExists(j.id))
        .slice(0, 20);
      const broken = jobs.filter(({ j }) => sim.brokenLog(j.id));
      expect(broken.length).toBeGreaterThan(2);
      expect(broken.length).toBeLessThan(jobs.length);
      for (const { b, j } of jobs) {
        for (let i = 0; i < 2; i++) {
          const res = await fetch(`${base}/builds/${b.number}/jobs/${j.id}/log.txt`, { headers: auth() });
          const text = await res.text();
          expect(res.status).toBe(sim.brokenLog(j.id) ? 503 : 200);
          if (res.status === 503)
            expect(JSON.parse(text)).toEqual({
              message: `Service Unavailable (request had Authorization: Bearer ${sim.token})`,
            });
        }
      }
    } finally {
      sim.setFaults({ failLogRate: 0, echoAuth: false });
    }
  });

  it('serves hostile build data: unknown states, null names, missing jobs', async () => {
    const hostile = await startSimulator({ builds: 60, seed: 7, hostile: true });
    try {
      const res = await fetch(
        `${hostile.url}/v2/organizations/vllm/pipelines/ci/builds?per_page=100&include_retried_jobs=true`,
        { headers: { Authorization: `Bearer ${hostile.token}` } },
      );
      const builds = (await res.json()) as Record<string, unknown>[];
      expect(builds).toHaveLength(60);
      expect(builds.some((b) => !('jobs' in b))).toBe(true);
      expect(builds.some((b) => b.jobs === null)).toBe(true);
      expect(builds.some((b) => b.state === 'frobnicated')).toBe(true);
    } finally {
      await hostile.close();
    }
  });

  it('answers bursts of 429 every N-th request', async () => {
    sim.setFaults({ burst429: 4, burstLength: 2 });
    try {
      const statuses: number[] = [];
      for (let i = 0; i < 10; i++) {
        const res = await fetch(`${sim.url}/v2/access-token`, { headers: auth() });
        statuses.push(res.status);
        if (res.status === 429) {
          expect(res.headers.get('retry-after')).toBeNull();
          expect(await res.json()).toMatchObject({ scope: 'rest_user', reset: 1 });
        } else await res.arrayBuffer();
      }
      expect(statuses.map((s) => s === 429)).toEqual([
        false,
        false,
        false,
        true,
        true,
        false,
        false,
        true,
        true,
        false,
      ]);
    } finally {
      sim.setFaults({ burst429: 0 });
    }
  });

  it('answers text-log requests with JSON when a proxy misbehaves', async () => {
    const { job } = scriptJobWithLog();
    sim.setFaults({ jsonLogRate: 1 });
    try {
      const res = await fetch(job.raw_log_url as string, { headers: auth() });
      expect(res.headers.get('content-type')).toMatch(/^application\/json/);
      expect(await res.json()).toHaveProperty('content');
    } finally {
      sim.setFaults({ jsonLogRate: 0 });
    }
  });
});

describe('transport', () => {
  it('gzips log bodies when asked and enabled', async () => {
    const zipped = await startSimulator({ builds: 10, gzip: true, seed: 7 });
    try {
      const job = zipped.dataset.builds
        .flatMap((b) => b.jobs)
        .find((j) => zipped.dataset.logExists(j.id) && zipped.dataset.logSize(j.id) > 1000) as SimJob;
      const bytes = Buffer.concat([...zipped.dataset.logChunks(job.id)]);
      const raw = await rawGet(job.raw_log_url as string, {
        Authorization: `Bearer ${zipped.token}`,
        'Accept-Encoding': 'gzip',
      });
      expect(raw.headers['content-encoding']).toBe('gzip');
      expect(gunzipSync(raw.body)).toEqual(bytes);
      const plain = await rawGet(job.raw_log_url as string, { Authorization: `Bearer ${zipped.token}` });
      expect(plain.headers['content-encoding']).toBeUndefined();
      expect(plain.body).toEqual(bytes);
      const viaFetch = await fetch(job.raw_log_url as string, { headers: { Authorization: `Bearer ${zipped.token}` } });
      expect(Buffer.from(await viaFetch.arrayBuffer())).toEqual(bytes);
    } finally {
      await zipped.close();
    }
  });

  it('redirects text logs to another origin and records leaked Authorization headers', async () => {
    const redirecting = await startSimulator({ builds: 10, redirectLogs: true, seed: 7 });
    try {
      const job = redirecting.dataset.builds
        .flatMap((b) => b.jobs)
        .find((j) => redirecting.dataset.logExists(j.id)) as SimJob;
      const bytes = Buffer.concat([...redirecting.dataset.logChunks(job.id)]);
      const headers = { Authorization: `Bearer ${redirecting.token}` };
      const first = await rawGet(job.raw_log_url as string, headers);
      expect(first.status).toBe(302);
      const location = String(first.headers.location);
      expect(new URL(location).origin).not.toBe(new URL(redirecting.url).origin);
      expect((await rawGet(location, {})).body).toEqual(bytes);
      expect(redirecting.stats.redirectAuthLeaks).toBe(0);
      await rawGet(location, headers);
      expect(redirecting.stats.redirectAuthLeaks).toBe(1);
      expect((await rawGet(location.replace(/Signature=[0-9a-f]+/, 'Signature=bad'), {})).status).toBe(403);
      // Node's fetch follows the redirect and drops Authorization on the cross-origin hop.
      const followed = await fetch(job.raw_log_url as string, { headers });
      expect(Buffer.from(await followed.arrayBuffer())).toEqual(bytes);
      expect(redirecting.stats.redirectAuthLeaks).toBe(1);
    } finally {
      await redirecting.close();
    }
  });

  it('streams a big log in chunks without holding it', async () => {
    const big = await startSimulator({ builds: 12, bigLogs: { count: 1, bytes: 300_000_000 } });
    try {
      const job = big.dataset.builds
        .flatMap((b) => b.jobs)
        .find((j) => big.dataset.logExists(j.id) && big.dataset.logSize(j.id) > 1e7) as SimJob;
      const size = big.dataset.logSize(job.id);
      expect(size).toBeGreaterThan(299_000_000);
      // Server and client share this process: holding the log on either side would show.
      const { growth } = await peakRssGrowth(async () => {
        const res = await fetch(job.raw_log_url as string, { headers: { Authorization: `Bearer ${big.token}` } });
        expect(Number(res.headers.get('content-length'))).toBe(size);
        let received = 0;
        let last = Buffer.alloc(0);
        for await (const chunk of res.body as AsyncIterable<Uint8Array>) {
          received += chunk.length;
          last = Buffer.concat([last, chunk]).subarray(-4096);
        }
        expect(received).toBe(size);
        expect(last.toString()).toMatch(/test_multi_shared_storage_connector_consistency/);
      });
      expect(growth).toBeLessThan(size / 2);
    } finally {
      await big.close();
    }
  });
});
