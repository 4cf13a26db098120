// Builds and jobs as the API serves them: the stored objects (generate-builds.ts) plus the rest
// of the real API's job field set, made as a page is served and dropped after it, so a dataset
// of thousands of vLLM-sized builds costs its plan in memory, not its JSON
// (docs/buildkite-api.md, "Size of a real list page": about 2.3 KB a script job). Every added
// value derives from the job's own ids, so a job reads the same on every page.

import type { SimBuild, SimJob, SimPipeline } from './api-objects.ts';
import { mixSeed, Rng } from './prng.ts';

export interface ServeOptions {
  /** Retried attempts are shown only with `include_retried_jobs=true` (the list and one-build endpoints). */
  readonly includeRetried: boolean;
  /** The pipeline object each build carries, or null for `exclude_pipeline=true`. */
  readonly pipeline: SimPipeline | null;
  /** Serve builds whose jobs the hostile mutation removed as `jobs: null` or without the key. */
  readonly hostile: boolean;
}

/** What the added fields are made from. */
export interface ServeContext {
  readonly apiUrl: string;
  readonly org: string;
  readonly seed: number;
  readonly pipeline: SimPipeline;
}

/** The script job fields in the order Buildkite's documented responses give them. */
const SCRIPT_FIELDS = [
  'id',
  'graphql_id',
  'type',
  'name',
  'step_key',
  'step',
  'priority',
  'agent_query_rules',
  'state',
  'build_url',
  'web_url',
  'log_url',
  'raw_log_url',
  'artifacts_url',
  'command',
  'soft_failed',
  'exit_status',
  'artifact_paths',
  'agent',
  'created_at',
  'scheduled_at',
  'runnable_at',
  'started_at',
  'finished_at',
  'expired_at',
  'retried',
  'retried_in_job_id',
  'retries_count',
  'retry_source',
  'retry_type',
  'parallel_group_index',
  'parallel_group_total',
  'matrix',
  'cluster_id',
  'cluster_url',
  'cluster_queue_id',
  'cluster_queue_url',
] as const;

const AGENT_VERSION = '3.101.0';

/** A UUID that depends only on `text` (and the seed): a step's or a queue's id. */
function stableUuid(seed: number, text: string): string {
  let h = 0;
  for (let i = 0; i < text.length; i++) h = mixSeed(h, text.charCodeAt(i));
  return new Rng(mixSeed(seed, 17, h)).uuid();
}

function rngOf(seed: number, id: string): Rng {
  let h = 0;
  for (let i = 0; i < id.length; i += 4) h = mixSeed(h, id.charCodeAt(i), id.charCodeAt(i + 1) || 0);
  return new Rng(mixSeed(seed, 19, h));
}

/** The agent object a started job carries: ids, URLs, the host and its tags. */
function agentObject(ctx: ServeContext, agent: Record<string, unknown>, job: SimJob): Record<string, unknown> {
  const id = String(agent.id);
  const rng = rngOf(ctx.seed, id);
  const queue = (job.agent_query_rules?.[0] ?? 'queue=default').replace(/^queue=/, '');
  const amd = queue.startsWith('amd');
  const gpu = queue.startsWith('gpu') || (amd && !queue.includes('cpu'));
  const createdMs =
    Date.parse(job.started_at ?? job.created_at ?? '2026-10-01T00:00:00.000Z') - rng.int(60, 86_400) * 1000;
  const instance = amd ? 'mi325x.8gpu' : gpu ? rng.pick(['g6.4xlarge', 'g6.12xlarge', 'p5.48xlarge']) : 'c6a.8xlarge';
  return {
    id,
    graphql_id: Buffer.from(`Agent---${id}`).toString('base64'),
    url: `${ctx.apiUrl}/v2/organizations/${ctx.org}/agents/${id}`,
    web_url: `https://buildkite.com/organizations/${ctx.org}/agents/${id}`,
    name: agent.name,
    connection_state: job.state === 'running' ? 'connected' : rng.pick(['connected', 'connected', 'disconnected']),
    hostname: agent.hostname,
    ip_address: `10.${rng.int(0, 255)}.${rng.int(0, 255)}.${rng.int(1, 254)}`,
    user_agent: `buildkite-agent/${AGENT_VERSION}.${rng.int(10_000, 10_999)} (linux; amd64)`,
    version: AGENT_VERSION,
    creator: null,
    created_at: new Date(createdMs).toISOString(),
    job: null,
    last_job_finished_at: null,
    priority: gpu ? 0 : 10,
    meta_data: [
      `queue=${queue}`,
      `instance-type=${instance}`,
      `aws:instance-id=i-0${rng.hex(16)}`,
      `aws:region=${rng.pick(['us-west-2', 'us-east-1'])}`,
      `stack=vllm-ci-${queue.replace(/_/g, '-')}`,
      amd ? 'rocm=6.4.1' : gpu ? 'nvidia-driver=570.133.20' : 'arch=x86_64',
    ],
  };
}

/** A script job with the real API's whole field set; other jobs as stored. */
export function servedJob(ctx: ServeContext, build: SimBuild, job: SimJob, retrySource: string | null): unknown {
  if (job.type !== 'script') return job;
  const stored = job as unknown as Record<string, unknown>;
  const queue = (job.agent_query_rules?.[0] ?? 'queue=default').replace(/^queue=/, '');
  const clusterUrl = ctx.pipeline.cluster_url ?? `${ctx.apiUrl}/v2/organizations/${ctx.org}/clusters/none`;
  const queueId = stableUuid(ctx.seed, `queue:${queue}`);
  const agent = stored.agent;
  const added: Record<string, unknown> = {
    // Attempts and shards of one step share it.
    step: { id: stableUuid(ctx.seed, `${build.id}:${String(job.name)}`), signature: null },
    priority: { number: 0 },
    artifacts_url: `${job.build_url ?? ''}/jobs/${job.id}/artifacts`,
    artifact_paths: job.state === 'waiting' ? null : 'test-results/**/*.xml',
    agent:
      typeof agent === 'object' && agent !== null ? agentObject(ctx, agent as Record<string, unknown>, job) : agent,
    expired_at: null,
    retry_source: retrySource ? { job_id: retrySource, retry_type: job.retry_type ?? 'manual' } : null,
    matrix: null,
    cluster_id: ctx.pipeline.cluster_id,
    cluster_url: clusterUrl,
    cluster_queue_id: queueId,
    cluster_queue_url: `${clusterUrl}/queues/${queueId}`,
  };
  const out: Record<string, unknown> = {};
  for (const field of SCRIPT_FIELDS) {
    if (field in added) out[field] = added[field];
    else if (field in stored) out[field] = stored[field];
  }
  // Whatever else the stored job has (hostile data's unknown fields) is served too.
  for (const [field, value] of Object.entries(stored)) if (!(field in out)) out[field] = value;
  return out;
}

/** Each retry's previous attempt (its `retry_source`), by the retry's id. */
export function retrySources(build: SimBuild): ReadonlyMap<string, string> {
  const previous = new Map<string, string>();
  for (const job of build.jobs) if (job.retried_in_job_id) previous.set(job.retried_in_job_id, job.id);
  return previous;
}

/**
 * A build as served: retried attempts hidden unless asked for, the pipeline object before the
 * jobs unless excluded, each script job with the whole field set.
 */
export function servedBuild(ctx: ServeContext, build: SimBuild, options: ServeOptions): unknown {
  const previous = retrySources(build);
  const out: Record<string, unknown> = {};
  for (const [field, value] of Object.entries(build)) {
    if (field !== 'jobs') {
      out[field] = value;
      continue;
    }
    if (options.pipeline) out.pipeline = options.pipeline;
    // Hostile data: a build whose jobs are absent, as `jobs: null` or no key at all.
    if (options.hostile && build.jobs.length === 0) {
      if (build.number % 2 === 0) out.jobs = null;
      continue;
    }
    out.jobs = build.jobs
      .filter((j) => options.includeRetried || !j.retried)
      .map((j) => servedJob(ctx, build, j, previous.get(j.id) ?? null));
  }
  return out;
}
