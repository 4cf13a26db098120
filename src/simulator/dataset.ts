// The generated pipeline: builds and jobs as the Buildkite API returns them (newest first, every
// job embedded, retried attempts included; the server hides those unless asked), and each job's
// log, generated lazily from (seed, job) so memory stays small whatever the log sizes.

import { mixSeed, Rng } from './prng.ts';
import { FLAKE_KINDS, type FlakeKind } from './signatures.ts';
import { blockLabel, IMAGE_STEP, STEPS, V1_OTHERS_LABELS, type StepDef } from './steps.ts';
import { bigLogChunks, bigLogCleanLines, layoutBigLog, renderLog, type LogSpec, type RenderedLog } from './log-text.ts';

export interface SimAgent {
  readonly id: string;
  readonly name: string;
  readonly hostname: string;
}

/** A job object. Which fields are present depends on `type`, as in the real API. */
export interface SimJob {
  readonly id: string;
  readonly graphql_id: string;
  readonly type: 'script' | 'waiter' | 'manual' | 'trigger';
  readonly name?: string | null;
  /** Only block (`manual`) jobs carry a label; script jobs have their label in `name`. */
  readonly label?: string | null;
  readonly step_key?: string | null;
  readonly state?: string;
  readonly build_url?: string;
  readonly web_url?: string | null;
  readonly log_url?: string;
  readonly raw_log_url?: string;
  readonly command?: string | null;
  readonly soft_failed?: boolean;
  readonly exit_status?: number | null;
  readonly agent?: SimAgent | null;
  readonly agent_query_rules?: readonly string[];
  readonly created_at?: string | null;
  readonly scheduled_at?: string | null;
  readonly runnable_at?: string | null;
  readonly started_at?: string | null;
  readonly finished_at?: string | null;
  readonly retried?: boolean;
  readonly retried_in_job_id?: string | null;
  readonly retries_count?: number | null;
  readonly retry_type?: string | null;
  readonly parallel_group_index?: number | null;
  readonly parallel_group_total?: number | null;
  readonly unblocked_by?: { readonly id: string; readonly name: string } | null;
  readonly unblocked_at?: string | null;
  readonly unblockable?: boolean;
  readonly unblock_url?: string;
  readonly triggered_build?: { readonly id: string; readonly number: number; readonly url: string; readonly web_url: string };
}

/** `{id, base, repository}` on PR builds; `null` or `{}` on others (both occur in the wild). */
export type SimPullRequest = { readonly id: string; readonly base: string; readonly repository: string } | Record<string, never> | null;

export interface SimBuild {
  readonly id: string;
  readonly graphql_id: string;
  readonly url: string;
  readonly web_url: string;
  readonly number: number;
  readonly state: string;
  readonly blocked: boolean;
  readonly cancel_reason: string | null;
  readonly message: string;
  readonly commit: string;
  readonly branch: string;
  readonly tag: null;
  readonly env: Record<string, string>;
  readonly source: string;
  readonly author: { readonly username: string; readonly name: string; readonly email: string } | null;
  readonly creator: { readonly id: string; readonly name: string; readonly email: string } | null;
  readonly created_at: string;
  readonly scheduled_at: string;
  readonly started_at: string | null;
  readonly finished_at: string | null;
  readonly meta_data: Record<string, string>;
  readonly pull_request: SimPullRequest;
  readonly rebuilt_from: null;
  readonly pipeline: { readonly slug: string; readonly name: string; readonly url: string };
  readonly jobs: readonly SimJob[];
}

export interface DatasetOptions {
  readonly seed: number;
  readonly org: string;
  readonly pipeline: string;
  readonly builds: number;
  readonly jobsPerBuild: readonly [number, number];
  readonly logLines: readonly [number, number];
  readonly bigLogs: { readonly count: number; readonly bytes: number; readonly singleLine?: boolean };
  /** Mutate some builds and jobs as a changing API or a proxy might (see SimulatorOptions.hostile). */
  readonly hostile?: boolean;
  /** The simulator's origin; log_url and raw_log_url point here. */
  readonly apiUrl: string;
}

export interface Dataset {
  readonly org: string;
  readonly pipeline: string;
  readonly seed: number;
  /** Newest first; every job embedded, retried attempts included. */
  readonly builds: readonly SimBuild[];
  findBuild(number: number): SimBuild | undefined;
  findJob(jobId: string): { readonly build: SimBuild; readonly job: SimJob } | undefined;
  /** False when the log endpoint answers 404: not a script job, never started, or expired. */
  logExists(jobId: string): boolean;
  /** Size in bytes of the raw log (0 when empty). Throws when the log does not exist. */
  logSize(jobId: string): number;
  /** The raw bytes served for [start, end), in chunks; never the whole of a big log at once. */
  logChunks(jobId: string, start?: number, end?: number): Iterable<Buffer>;
  /**
   * The lines a correct cleaner yields from the raw bytes: UTF-8 decoded as WHATWG TextDecoder
   * does (U+FFFD for invalid sequences), `bk;` markers, CSI and OSC sequences removed, split on
   * `\r\n`, `\n` and bare `\r`; a final empty piece after the last terminator is not a line.
   * Empty when the log does not exist.
   */
  cleanLines(jobId: string): Iterable<string>;
  /** `header_times` of the JSON log shape: times of the group header lines. */
  headerTimes(jobId: string): readonly number[];
  /** The flakes planted in this job's log, for tests and debugging. */
  flakes(jobId: string): readonly FlakeKind[];
}

const OWNERS = ['tanyuqian', 'njhill', 'WoosukKwon', 'youkaichao', 'DarkLight1337', 'heheda12345', 'ApostaC', 'KuntaiDu', 'mgoin', 'Isotr0py', 'hmellor', 'ywang96'];
const TOPICS = ['fix-kv', 'kv-connector-fix', 'spec-decode-eagle', 'fp8-moe', 'v1-scheduler', 'lora-refactor', 'ci-speedup', 'mm-cache', 'fix-oom', 'main', 'nixl-v2', 'async-sched'];
const MESSAGES = [
  '[Bugfix] Fix multi-connector event ordering',
  '[V1] Support chunked prefill with prefix caching',
  '[CI] Split attention kernel tests into shards',
  '[Kernel] Add FP8 MoE kernels for Hopper',
  '[Core] Refactor KV cache manager',
  '[Misc] Bump transformers to 4.57',
  '[Frontend] Add tool-call parser for Qwen3',
  '[Perf] Reduce scheduler overhead',
  '[Docs] Update installation guide',
  '[Model] Add support for Gemma 3n',
];
const REPOSITORY = 'https://github.com/vllm-project/vllm.git';
/** The newest build's creation time: fixed, so the dataset does not depend on the clock. */
const NEWEST_MS = Date.UTC(2026, 9, 2, 14, 30, 0);

interface Draft {
  build: SimBuild;
  isPr: boolean;
}

/** Bytes of rendered small logs kept; beyond it the oldest are dropped (and re-rendered on demand). */
const CACHE_BYTES = 16 * 1024 * 1024;

const iso = (ms: number): string => new Date(ms).toISOString();

function isV1Others(label: string): boolean {
  return /v1 test others/i.test(label);
}

class SimDataset implements Dataset {
  readonly org: string;
  readonly pipeline: string;
  readonly seed: number;
  readonly builds: readonly SimBuild[];
  private readonly specs = new Map<string, LogSpec>();
  private readonly jobs = new Map<string, { build: SimBuild; job: SimJob }>();
  private readonly byNumber = new Map<number, SimBuild>();
  private readonly rendered = new Map<string, RenderedLog>();
  private renderedBytes = 0;
  private readonly layouts = new Map<string, ReturnType<typeof layoutBigLog>>();

  constructor(private readonly options: DatasetOptions) {
    this.org = options.org;
    this.pipeline = options.pipeline;
    this.seed = options.seed;
    const drafts: Draft[] = [];
    const newestNumber = Math.max(24_000, options.builds + 100);
    let createdMs = NEWEST_MS;
    for (let i = 0; i < options.builds; i++) {
      const draft = this.generateBuild(i, newestNumber - i, createdMs);
      drafts.push(draft);
      createdMs -= new Rng(mixSeed(options.seed, 3, i)).int(90, 900) * 1000;
    }
    this.builds = drafts.map((d) => d.build);
    for (const build of this.builds) {
      this.byNumber.set(build.number, build);
      for (const job of build.jobs) this.jobs.set(job.id, { build, job });
    }
    this.plantAnchors(drafts);
    this.chooseBigLogs();
    if (options.hostile) this.makeHostile();
  }

  /**
   * Hostile data, applied to the dataset itself so the oracle sees what the server serves:
   * unknown states and job types, null names, `pull_request` `{}` or `{id: null}`, mistyped and
   * unknown fields, and builds without jobs (served as `jobs: null` or with no `jobs` key).
   * The oldest build is left alone and the newest keeps its jobs, so the filters still have
   * something to find.
   */
  private makeHostile(): void {
    type Loose = Record<string, unknown>;
    this.builds.forEach((build, index) => {
      const rng = new Rng(mixSeed(this.options.seed, 77, index));
      const b = build as unknown as Loose;
      if (rng.chance(0.1)) b.state = 'frobnicated';
      if (rng.chance(0.1)) b.message = rng.int(1, 99_999);
      if (rng.chance(0.1)) b.unexpected_field = { nested: [1, { deep: null }], at: rng.hex(8) };
      if (build.pull_request && 'id' in build.pull_request && rng.chance(0.08)) b.pull_request = rng.chance(0.5) ? {} : { id: null, base: null, repository: null };
      if (index > 0 && rng.chance(0.05)) {
        b.jobs = [];
        return;
      }
      for (const job of build.jobs) {
        const j = job as unknown as Loose;
        if (job.type === 'script' && rng.chance(0.05)) j.name = null;
        else if (job.type === 'script' && rng.chance(0.03)) j.name = 404;
        if (rng.chance(0.08)) j.state = 'quantum_superposition';
        if (rng.chance(0.03)) j.type = 'pipeline_v9';
        if (rng.chance(0.05)) j.exit_status = 'one';
        if (rng.chance(0.05)) j.agent = 'not-an-object';
      }
    });
  }

  private apiBuildUrl(n: number): string {
    return `${this.options.apiUrl}/v2/organizations/${this.org}/pipelines/${this.pipeline}/builds/${n}`;
  }

  private generateBuild(index: number, number: number, createdMs: number): Draft {
    const { seed, builds, org, pipeline } = this.options;
    const rng = new Rng(mixSeed(seed, 5, index));
    const kindRoll = rng.next();
    const isPr = kindRoll < 0.68;
    const isMain = !isPr && kindRoll < 0.9;
    let branch: string;
    let pullRequest: SimPullRequest;
    if (isPr) {
      const prId = String(rng.int(21_000, 26_999));
      const style = rng.next();
      branch = style < 0.8 ? `${rng.pick(OWNERS)}:${rng.pick(TOPICS)}` : style < 0.95 ? `feature/${rng.pick(TOPICS)}` : `pull/${prId}/head`;
      pullRequest = { id: prId, base: 'main', repository: REPOSITORY };
    } else {
      branch = isMain ? 'main' : rng.pick(['releases/v0.11.1', `feature/${rng.pick(TOPICS)}`, 'nightly-ci']);
      pullRequest = rng.chance(0.5) ? null : {};
    }
    const source = isPr ? 'webhook' : isMain ? rng.pick(['webhook', 'webhook', 'webhook', 'schedule', 'api']) : rng.pick(['ui', 'api', 'trigger_job']);
    const running = index < 2;
    const canceled = !running && rng.chance(0.05);
    const webUrl = `https://buildkite.com/${org}/${pipeline}/builds/${number}`;
    const author = rng.pick(OWNERS);
    const startedMs = createdMs + rng.int(5, 90) * 1000;

    const steps: StepDef[] = [IMAGE_STEP];
    if (rng.chance(0.75)) {
      const label = index > builds / 2 ? (V1_OTHERS_LABELS[0] as string) : rng.pick(V1_OTHERS_LABELS);
      steps.push({ label, optional: true, gpu: !label.includes('CPU') });
    }
    const target = rng.int(this.options.jobsPerBuild[0], this.options.jobsPerBuild[1]);
    const pool = [...STEPS];
    let scriptCount = steps.length;
    while (scriptCount < target && pool.length > 0) {
      const step = pool.splice(rng.int(0, pool.length - 1), 1)[0] as StepDef;
      steps.push(step);
      scriptCount += step.parallel ? step.parallel[1] : 1;
    }

    const jobs: SimJob[] = [];
    const ctx = { rng, index, number, webUrl, isPr, running, canceled, startedMs };
    let clock = startedMs;
    let anyFailed = false;
    let blocked = false;
    let lastFinish = startedMs;
    steps.forEach((step, stepIndex) => {
      if (stepIndex === 1) jobs.push({ id: rng.uuid(), graphql_id: '', type: 'waiter' });
      let runnable = true;
      if (isPr && step.optional && rng.chance(0.45)) {
        runnable = rng.chance(0.5);
        blocked ||= !runnable;
        jobs.push(this.blockJob(ctx, step.label, runnable, clock));
      }
      const total = step.parallel ? rng.int(step.parallel[0], step.parallel[1]) : 1;
      for (let p = 0; p < total; p++) {
        const stepJobs = this.scriptAttempts(ctx, step, runnable, clock, step.parallel ? { p, total } : null);
        for (const job of stepJobs) {
          if (job.finished_at) lastFinish = Math.max(lastFinish, Date.parse(job.finished_at));
          if (!job.retried && job.state === 'failed' && !job.soft_failed) anyFailed = true;
        }
        jobs.push(...stepJobs);
      }
      if (stepIndex === 0) clock += rng.int(8, 20) * 60_000;
    });
    if (isMain && rng.chance(0.3)) {
      jobs.push({
        id: rng.uuid(), graphql_id: '', type: 'trigger', name: 'Trigger :docker: nightly release image', state: running ? 'waiting' : 'passed',
        build_url: this.apiBuildUrl(number), web_url: null, created_at: iso(createdMs), scheduled_at: iso(createdMs), runnable_at: null,
        started_at: null, finished_at: running ? null : iso(lastFinish),
        triggered_build: { id: rng.uuid(), number: rng.int(1000, 9000), url: `${this.options.apiUrl}/v2/organizations/${org}/pipelines/release/builds/1`, web_url: `https://buildkite.com/${org}/release/builds/1` },
      });
    }
    for (const job of jobs) (job as { graphql_id: string }).graphql_id = Buffer.from(`Job---${job.id}`).toString('base64');

    const state = running ? 'running' : canceled ? 'canceled' : anyFailed ? 'failed' : 'passed';
    const build: SimBuild = {
      id: rng.uuid(), graphql_id: '', url: this.apiBuildUrl(number), web_url: webUrl, number, state, blocked,
      cancel_reason: canceled ? 'Superseded by a newer build' : null,
      message: `${rng.pick(MESSAGES)}${isPr ? ` (#${(pullRequest as { id: string }).id})` : ''}`,
      commit: rng.hex(40), branch, tag: null, env: {}, source,
      author: { username: author, name: author, email: `${author.toLowerCase()}@users.noreply.github.com` },
      creator: source === 'ui' || source === 'api' ? { id: rng.uuid(), name: 'vLLM CI', email: 'ci@vllm.ai' } : null,
      created_at: iso(createdMs), scheduled_at: iso(createdMs), started_at: iso(startedMs), finished_at: running ? null : iso(lastFinish),
      meta_data: isPr ? { 'buildkite:git:commit': 'HEAD', docs_only: 'false' } : { 'buildkite:git:commit': 'HEAD' },
      pull_request: pullRequest, rebuilt_from: null,
      pipeline: { slug: pipeline, name: pipeline, url: `${this.options.apiUrl}/v2/organizations/${org}/pipelines/${pipeline}` },
      jobs,
    };
    (build as { graphql_id: string }).graphql_id = Buffer.from(`Build---${build.id}`).toString('base64');
    return { build, isPr };
  }

  private blockJob(ctx: { rng: Rng; number: number }, label: string, unblocked: boolean, clock: number): SimJob {
    const { rng } = ctx;
    const id = rng.uuid();
    const text = blockLabel(label);
    return {
      id, graphql_id: '', type: 'manual', label: text, name: rng.chance(0.5) ? text : null,
      state: unblocked ? 'unblocked' : 'blocked', web_url: null,
      unblocked_by: unblocked ? { id: rng.uuid(), name: rng.pick(OWNERS) } : null,
      unblocked_at: unblocked ? iso(clock) : null, unblockable: true,
      unblock_url: `${this.apiBuildUrl(ctx.number)}/jobs/${id}/unblock`,
    };
  }

  /** One script step: its attempts in order, the superseded ones first (`retried: true`). */
  private scriptAttempts(
    ctx: { rng: Rng; index: number; number: number; webUrl: string; running: boolean; canceled: boolean },
    step: StepDef,
    runnable: boolean,
    clock: number,
    parallel: { p: number; total: number } | null,
  ): SimJob[] {
    const { rng, index, running, canceled } = ctx;
    type Outcome = 'passed' | 'failed' | 'soft' | 'lost' | 'timed_out' | 'canceled' | 'running' | 'waiting' | 'never';
    let outcomes: Outcome[];
    if (!runnable) outcomes = ['waiting'];
    else if (running) outcomes = [rng.pick<Outcome>(['running', 'running', 'passed', 'waiting'])];
    else if (canceled && rng.chance(0.5)) outcomes = [rng.pick<Outcome>(['never', 'canceled'])];
    else {
      const r = rng.next();
      if (r < 0.78) outcomes = ['passed'];
      else if (r < 0.86) outcomes = ['failed'];
      else if (r < 0.89) outcomes = ['soft'];
      else if (r < 0.97) {
        outcomes = [rng.chance(0.6) ? 'lost' : 'failed'];
        if (rng.chance(0.15)) outcomes.push('failed');
        outcomes.push(rng.chance(0.8) ? 'passed' : 'failed');
      } else if (r < 0.985) outcomes = ['timed_out'];
      else outcomes = ['canceled'];
    }
    const ids = outcomes.map(() => rng.uuid());
    const queueMs = clock + rng.int(10, 600) * 1000;
    return outcomes.map((outcome, attempt) => {
      const id = ids[attempt] as string;
      const superseded = attempt < outcomes.length - 1;
      const started = outcome !== 'waiting' && outcome !== 'never';
      const startMs = queueMs + attempt * 45 * 60_000 + rng.int(0, 120) * 1000;
      const finishMs = startMs + rng.int(2, 45) * 60_000;
      const state = { passed: 'passed', failed: 'failed', soft: 'failed', lost: 'failed', timed_out: 'timed_out', canceled: 'canceled', running: 'running', waiting: 'waiting', never: 'canceled' }[outcome];
      const exit = { passed: 0, failed: 1, soft: 1, lost: -1, timed_out: -1, canceled: -1, running: null, waiting: null, never: null }[outcome];
      const agentName = `${step.gpu ? rng.pick(['gpu-l4', 'gpu-h100', 'gpu-a100']) : 'cpu'}-${rng.int(1, 64)}-${rng.hex(6)}`;
      const job: SimJob = {
        id, graphql_id: '', type: 'script', name: step.label, step_key: null, state,
        build_url: this.apiBuildUrl(ctx.number), web_url: `${ctx.webUrl}#${id}`,
        log_url: `${this.apiBuildUrl(ctx.number)}/jobs/${id}/log`, raw_log_url: `${this.apiBuildUrl(ctx.number)}/jobs/${id}/log.txt`,
        command: `pytest -v -s ${isV1Others(step.label) ? 'v1' : 'tests'}`, soft_failed: outcome === 'soft', exit_status: exit,
        agent: started ? { id: rng.uuid(), name: agentName, hostname: agentName } : null,
        agent_query_rules: [step.gpu ? 'queue=gpu_1_queue' : 'queue=cpu_queue_premerge'],
        created_at: iso(clock), scheduled_at: iso(clock), runnable_at: started || outcome === 'never' ? iso(queueMs) : null,
        started_at: started ? iso(startMs) : null,
        finished_at: started && outcome !== 'running' ? iso(finishMs) : outcome === 'never' ? iso(queueMs) : null,
        retried: superseded, retried_in_job_id: superseded ? (ids[attempt + 1] as string) : null,
        retries_count: attempt > 0 ? attempt : null,
        retry_type: attempt > 0 ? (outcomes[attempt - 1] === 'lost' ? 'automatic' : 'manual') : null,
        parallel_group_index: parallel ? parallel.p : null, parallel_group_total: parallel ? parallel.total : null,
      };
      if (started) this.specs.set(id, this.logSpec(rng, index, step, outcome, superseded, startMs));
      return job;
    });
  }

  private logSpec(rng: Rng, index: number, step: StepDef, outcome: string, superseded: boolean, startMs: number): LogSpec {
    const old = index > this.options.builds * 0.8;
    const roll = rng.next();
    const kind = roll < (old ? 0.25 : 0.02) ? 'missing' : roll < (old ? 0.265 : 0.035) ? 'empty' : 'text';
    const flakeChance = superseded ? 0.6 : outcome === 'failed' || outcome === 'timed_out' || outcome === 'lost' ? 0.35 : outcome === 'passed' ? 0.04 : 0;
    const flakes: FlakeKind[] = [];
    if (rng.chance(flakeChance)) {
      if (outcome === 'passed' || !step.gpu) flakes.push(rng.pick<FlakeKind>(['connectionReset', 'hfReadTimeout']));
      else if (rng.chance(isV1Others(step.label) ? 0.6 : 0.1)) flakes.push('kvConnector');
      else flakes.push(rng.pick(FLAKE_KINDS.filter((k) => k !== 'kvConnector')));
    }
    const logOutcome = outcome === 'soft' ? 'failed' : outcome === 'never' || outcome === 'waiting' ? 'canceled' : outcome;
    return {
      seed: mixSeed(this.options.seed, 11, index, rng.int(0, 0x7fffffff)),
      kind, lines: rng.int(this.options.logLines[0], this.options.logLines[1]), startMs, label: step.label,
      outcome: logOutcome as LogSpec['outcome'], flakes, oddBytes: rng.chance(0.04), bigBytes: 0,
    };
  }

  /**
   * Guarantees the cases filter tests need, whatever the seed: the kv-connector flake in a recent
   * PR build's "V1 Test others" job, in a main build, beyond the newest 200 builds, and in a job
   * of another step (which a step filter must exclude).
   */
  private plantAnchors(drafts: readonly Draft[]): void {
    const plant = (from: number, buildOk: (d: Draft) => boolean, jobOk: (j: SimJob) => boolean): void => {
      for (const draft of drafts.slice(from)) {
        if (!buildOk(draft)) continue;
        const jobs = draft.build.jobs.filter((j) => j.type === 'script' && j.started_at && jobOk(j) && this.specs.has(j.id));
        const job = jobs.find((j) => j.retried) ?? jobs.find((j) => j.state === 'failed') ?? jobs[0];
        if (!job) continue;
        const spec = this.specs.get(job.id) as LogSpec;
        const flakes: FlakeKind[] = spec.flakes.includes('kvConnector') ? [...spec.flakes] : [...spec.flakes, 'kvConnector'];
        this.specs.set(job.id, { ...spec, kind: 'text', flakes });
        return;
      }
    };
    const v1 = (j: SimJob): boolean => isV1Others(j.name ?? '');
    const done = (d: Draft): boolean => d.build.state !== 'running';
    plant(0, (d) => done(d) && d.isPr && d.build.branch.includes(':'), v1);
    plant(0, (d) => done(d) && d.build.branch === 'main', v1);
    plant(200, () => true, v1);
    plant(0, (d) => done(d) && d.isPr, (j) => !v1(j) && j.name !== IMAGE_STEP.label);
  }

  private chooseBigLogs(): void {
    const { count, bytes } = this.options.bigLogs;
    if (count <= 0) return;
    const candidates = this.builds.flatMap((b) => b.jobs).filter((j) => j.type === 'script' && !j.retried && this.specs.get(j.id)?.kind === 'text');
    const preferred = [...candidates.filter((j) => isV1Others(j.name ?? '')), ...candidates.filter((j) => !isV1Others(j.name ?? ''))];
    for (const job of preferred.slice(0, count)) {
      const spec = this.specs.get(job.id) as LogSpec;
      const flakes: FlakeKind[] = spec.flakes.includes('kvConnector') ? [...spec.flakes] : [...spec.flakes, 'kvConnector'];
      this.specs.set(job.id, { ...spec, kind: 'big', bigBytes: bytes, flakes, singleLine: this.options.bigLogs.singleLine === true });
    }
  }

  findBuild(number: number): SimBuild | undefined {
    return this.byNumber.get(number);
  }

  findJob(jobId: string): { build: SimBuild; job: SimJob } | undefined {
    return this.jobs.get(jobId);
  }

  logExists(jobId: string): boolean {
    const spec = this.specs.get(jobId);
    return spec !== undefined && spec.kind !== 'missing';
  }

  flakes(jobId: string): readonly FlakeKind[] {
    return this.logExists(jobId) ? (this.specs.get(jobId) as LogSpec).flakes : [];
  }

  private spec(jobId: string): LogSpec {
    const spec = this.specs.get(jobId);
    if (!spec || spec.kind === 'missing') throw new Error(`no log for job ${jobId}`);
    return spec;
  }

  /** Small logs are rendered whole and kept in a bounded cache (a scan reads size, bytes, lines). */
  private small(jobId: string, spec: LogSpec): RenderedLog {
    let log = this.rendered.get(jobId);
    if (log) return log;
    log = renderLog(spec);
    this.rendered.set(jobId, log);
    this.renderedBytes += log.bytes.length;
    for (const [id, old] of this.rendered) {
      if (this.renderedBytes <= CACHE_BYTES) break;
      this.rendered.delete(id);
      this.renderedBytes -= old.bytes.length;
    }
    return log;
  }

  private layout(jobId: string, spec: LogSpec): ReturnType<typeof layoutBigLog> {
    let layout = this.layouts.get(jobId);
    if (!layout) {
      layout = layoutBigLog(spec);
      this.layouts.set(jobId, layout);
    }
    return layout;
  }

  logSize(jobId: string): number {
    const spec = this.spec(jobId);
    return spec.kind === 'big' ? this.layout(jobId, spec).size : this.small(jobId, spec).bytes.length;
  }

  *logChunks(jobId: string, start = 0, end?: number): Generator<Buffer> {
    const spec = this.spec(jobId);
    const stop = Math.min(end ?? Number.MAX_SAFE_INTEGER, this.logSize(jobId));
    if (start >= stop) return;
    if (spec.kind === 'big') {
      yield* bigLogChunks(spec, this.layout(jobId, spec), start, stop);
      return;
    }
    const bytes = this.small(jobId, spec).bytes;
    for (let at = start; at < stop; at += 65_536) yield bytes.subarray(at, Math.min(stop, at + 65_536));
  }

  *cleanLines(jobId: string): Generator<string> {
    if (!this.logExists(jobId)) return;
    const spec = this.spec(jobId);
    if (spec.kind === 'big') yield* bigLogCleanLines(spec, this.layout(jobId, spec));
    else yield* this.small(jobId, spec).clean;
  }

  headerTimes(jobId: string): readonly number[] {
    const spec = this.spec(jobId);
    if (spec.kind !== 'big') return this.small(jobId, spec).headerTimes;
    const layout = this.layout(jobId, spec);
    return [...layout.head.headerTimes, ...layout.tail.headerTimes];
  }
}

export function generateDataset(options: DatasetOptions): Dataset {
  return new SimDataset(options);
}
