// The simulator at vllm/ci's size (docs/buildkite-api.md, "Size of a real list page", "vllm/ci in
// numbers"): full builds of about 266 jobs in 37 test groups, PR builds from a handful of jobs to
// a full run, script jobs with the real API's whole field set, the pipeline object unless
// excluded; the same default-step jobs, logs and planted scenarios as the default shape, so the
// oracle means the same; and builds made on demand, so thousands of them are servable.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  expectedFlakes,
  expectedMatches,
  MATERIALIZED_JOBS_MAX,
  SCENARIO_QUERY,
  startSimulator,
  VERDICT_SCENARIOS,
  VLLM_GROUPS,
  type SimBuild,
  type SimJob,
  type Simulator,
} from '../../src/simulator/index.ts';
import { DEFAULT_QUERY } from '../support/default-query.ts';

let vllm: Simulator;
let small: Simulator;

beforeAll(async () => {
  [vllm, small] = await Promise.all([startSimulator({ seed: 1, shape: 'vllm' }), startSimulator({ seed: 1 })]);
});
afterAll(async () => {
  await Promise.all([vllm.close(), small.close()]);
});

const auth = (sim: Simulator) => ({ headers: { Authorization: `Bearer ${sim.token}` } });
const list = async (sim: Simulator, query: string): Promise<Record<string, unknown>[]> => {
  const res = await fetch(`${sim.url}/v2/organizations/vllm/pipelines/ci/builds?${query}`, auth(sim));
  expect(res.status).toBe(200);
  return (await res.json()) as Record<string, unknown>[];
};
const isPr = (b: SimBuild) => b.pull_request !== null && 'id' in b.pull_request;
const mean = (xs: readonly number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;

describe('the vllm shape', () => {
  it('runs about 266 jobs in a full build: 37 groups, sharded steps, AMD mirrors, waiters, retried attempts', () => {
    expect(VLLM_GROUPS).toHaveLength(37);
    const full = vllm.dataset.builds.filter((b) => b.branch === 'main');
    expect(mean(full.map((b) => b.jobs.length))).toBeGreaterThan(250);
    expect(mean(full.map((b) => b.jobs.length))).toBeLessThan(280);
    const jobs = full.flatMap((b) => b.jobs);
    expect(jobs.some((j) => j.type === 'script' && j.name?.startsWith(':amd: AMD: '))).toBe(true);
    expect(jobs.some((j) => j.type === 'waiter')).toBe(true);
    expect(jobs.some((j) => j.retried)).toBe(true);
    // Shards keep the `%N` label and are told apart by their index.
    for (const build of full.slice(0, 10)) {
      const shards = build.jobs.filter((j) => j.name === ':nvidia: Attention Backends Test %N' && !j.retried);
      expect(shards.map((j) => j.parallel_group_index)).toEqual([0, 1, 2, 3, 4, 5]);
      expect(shards.every((j) => j.parallel_group_total === 6)).toBe(true);
    }
  });

  it('runs PR builds from a handful of jobs (doc-only) to a full run, with block jobs for unselected steps', () => {
    const prs = vllm.dataset.builds.filter(isPr);
    const sizes = prs.map((b) => b.jobs.length);
    expect(Math.min(...sizes)).toBeLessThan(20);
    expect(Math.max(...sizes)).toBeGreaterThan(250);
    expect(sizes.filter((n) => n > 100).length).toBeGreaterThan(prs.length / 4);
    const docsOnly = prs.filter((b) => b.meta_data.docs_only === 'true');
    expect(docsOnly.length).toBeGreaterThan(0);
    expect(docsOnly.every((b) => b.jobs.length <= 40)).toBe(true);
    const blocks = prs.flatMap((b) => b.jobs).filter((j) => j.type === 'manual');
    expect(blocks.some((j) => j.label?.startsWith('Run AMD: '))).toBe(true);
    expect(blocks.some((j) => j.state === 'blocked')).toBe(true);
  });

  it("keeps the default shape's default-step jobs, logs and scenarios, so the oracle means the same", () => {
    const query = DEFAULT_QUERY;
    // The builds' states take in the padding's failures; everything else about the matches is the same.
    const strip = (sim: Simulator) => expectedMatches(sim.dataset, query).map(({ state: _s, ...rest }) => rest);
    expect(strip(vllm)).toEqual(strip(small));
    expect(strip(vllm).length).toBeGreaterThan(10);
    const flakes = expectedFlakes(vllm.dataset, SCENARIO_QUERY);
    expect(flakes).toEqual(expectedFlakes(small.dataset, SCENARIO_QUERY));
    for (const [id, scenario] of Object.entries(VERDICT_SCENARIOS)) {
      expect(flakes.find((f) => f.pattern === scenario.text)?.verdict, id).toBe(scenario.verdict);
    }
    // Every job of a default-shape build is in the vllm-shape build, the same in all but order
    // (a trigger job finishes with the whole build, padding included).
    const text = (sim: Simulator, job: SimJob | undefined) => JSON.stringify(job).replaceAll(sim.url, 'ORIGIN');
    small.dataset.builds.forEach((build, i) => {
      const padded = new Map(vllm.dataset.buildAt(i).jobs.map((j) => [j.id, j]));
      for (const job of build.jobs) {
        if (job.type === 'trigger') expect(padded.get(job.id)?.type).toBe('trigger');
        else expect(text(vllm, padded.get(job.id))).toBe(text(small, job));
      }
      expect(vllm.dataset.buildAt(i).jobs.filter((j) => /v1 test others/i.test(j.name ?? '')).length).toBe(
        build.jobs.filter((j) => /v1 test others/i.test(j.name ?? '')).length,
      );
    });
  });
});

describe('served objects', () => {
  it('serves script jobs with the real field set, about 2.3-2.8 KB of JSON each with the agent', async () => {
    const page = await list(vllm, 'per_page=20&include_retried_jobs=true');
    const jobs = page.flatMap((b) => b.jobs as Record<string, unknown>[]);
    const started = jobs.filter((j) => j.type === 'script' && j.agent !== null);
    const fields = [
      'step',
      'step_key',
      'priority',
      'agent_query_rules',
      'artifacts_url',
      'artifact_paths',
      'command',
      'matrix',
      'expired_at',
      'retry_source',
      'cluster_id',
      'cluster_url',
      'cluster_queue_id',
      'cluster_queue_url',
      'parallel_group_index',
      'parallel_group_total',
      'retries_count',
      'retry_type',
      'raw_log_url',
      'log_url',
    ];
    for (const job of started) for (const field of fields) expect(job, field).toHaveProperty(field);
    const agent = started[0]!.agent as Record<string, unknown>;
    for (const field of ['id', 'graphql_id', 'url', 'web_url', 'hostname', 'ip_address', 'version', 'meta_data']) {
      expect(agent, field).toHaveProperty(field);
    }
    const size = mean(started.map((j) => JSON.stringify(j).length));
    expect(size).toBeGreaterThan(2300);
    expect(size).toBeLessThan(2900);
    // A retry names the attempt it replaced; shards and attempts of a step share its id.
    const byId = new Map(jobs.map((j) => [j.id, j]));
    const retries = jobs.filter((j) => j.retry_source !== null && j.type === 'script');
    expect(retries.length).toBeGreaterThan(0);
    for (const retry of retries) {
      const source = byId.get((retry.retry_source as { job_id: string }).job_id) as Record<string, unknown>;
      expect(source.retried_in_job_id).toBe(retry.id);
      expect((source.step as { id: string }).id).toBe((retry.step as { id: string }).id);
    }
  });

  it('carries the pipeline object in each build unless exclude_pipeline=true', async () => {
    const pipeline = await (await fetch(`${vllm.url}/v2/organizations/vllm/pipelines/ci`, auth(vllm))).json();
    const withPipeline = await list(vllm, 'per_page=5');
    expect(withPipeline.every((b) => JSON.stringify(b.pipeline) === JSON.stringify(pipeline))).toBe(true);
    expect(pipeline).toMatchObject({ slug: 'ci', repository: 'https://github.com/vllm-project/vllm.git' });
    expect(JSON.stringify(pipeline).length).toBeGreaterThan(2000);
    const without = await list(vllm, 'per_page=5&exclude_pipeline=true');
    expect(without.some((b) => 'pipeline' in b)).toBe(false);
    expect(without.map((b) => b.number)).toEqual(withPipeline.map((b) => b.number));
    const one = await (
      await fetch(
        `${vllm.url}/v2/organizations/vllm/pipelines/ci/builds/${without[0]!.number}?exclude_pipeline=true`,
        auth(vllm),
      )
    ).json();
    expect(one).not.toHaveProperty('pipeline');
  });

  it('streams a page of 100 vLLM-sized builds of about 50 MB, and the same page again byte for byte', async () => {
    const url =
      `${vllm.url}/v2/organizations/vllm/pipelines/ci/builds` +
      '?per_page=100&include_retried_jobs=true&exclude_pipeline=true';
    const first = await (await fetch(url, auth(vllm))).text();
    expect(first.length).toBeGreaterThan(40e6);
    // Builds are made again once the cache drops them: the page must not change.
    await fetch(url.replace('per_page=100', 'per_page=100&page=2'), auth(vllm)).then((r) => r.arrayBuffer());
    expect(await (await fetch(url, auth(vllm))).text()).toBe(first);
  });
});

describe('a dataset of thousands of builds', () => {
  it('is made on demand: deep pages, job lookups, logs; and refuses to be held whole', async () => {
    const big = await startSimulator({ seed: 2, builds: 1500, shape: 'vllm', maxPage: 100 });
    try {
      expect(big.dataset.jobCount).toBeGreaterThan(MATERIALIZED_JOBS_MAX);
      expect(() => big.dataset.builds).toThrow(/buildAt/);
      const deep = await list(big, 'per_page=100&page=15&exclude_pipeline=true');
      expect(deep.map((b) => b.number)).toEqual(
        Array.from({ length: 100 }, (_, k) => big.dataset.buildAt(1400 + k).number),
      );
      const oldest = big.dataset.buildAt(1499);
      const job = oldest.jobs.find((j) => j.type === 'script' && big.dataset.logExists(j.id)) as SimJob;
      expect(big.dataset.findJob(job.id)?.build.number).toBe(oldest.number);
      const log = await fetch(
        `${big.url}/v2/organizations/vllm/pipelines/ci/builds/${oldest.number}/jobs/${job.id}/log.txt`,
        auth(big),
      );
      expect(Buffer.from(await log.arrayBuffer())).toEqual(Buffer.concat([...big.dataset.logChunks(job.id)]));
      // The created_to filter works on the plan alone.
      const to = new Date(big.dataset.summary(1200).createdMs).toISOString();
      const below = await list(big, `per_page=3&exclude_pipeline=true&created_to=${to}`);
      expect(below.map((b) => b.number)).toEqual([1201, 1202, 1203].map((i) => big.dataset.buildAt(i).number));
    } finally {
      await big.close();
    }
  });
});
