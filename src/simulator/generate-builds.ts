// Generates the pipeline as the Buildkite API returns it: builds newest first with every job
// embedded (retried attempts included; the server hides those unless asked), PR and default-branch
// builds, block jobs, waiters, triggers, parallel steps and retry chains. Each started script job
// gets a LogSpec here, drawn in the same random sequence as the job; job-logs.ts renders its bytes.

import type { SimBuild, SimJob, SimPipeline, SimPullRequest } from './api-objects.ts';
import type { LogSpec } from './log-text.ts';
import { mixSeed, Rng } from './prng.ts';
import { planScenarios, type PlannedAttempt, type PlannedBuild } from './scenarios.ts';
import { FLAKE_KINDS, type FlakeKind } from './signatures.ts';
import { blockLabel, IMAGE_STEP, STEPS, V1_OTHERS_LABELS, type StepDef } from './steps.ts';

export interface DatasetOptions {
  readonly seed: number;
  readonly org: string;
  readonly pipeline: string;
  /** The pipeline's default branch: the branch of its non-PR mainline builds and PRs' base. */
  readonly defaultBranch: string;
  readonly builds: number;
  readonly jobsPerBuild: readonly [number, number];
  readonly logLines: readonly [number, number];
  readonly bigLogs: { readonly count: number; readonly bytes: number; readonly singleLine?: boolean };
  /** Mutate some builds and jobs as a changing API or a proxy might (see SimulatorOptions.hostile). */
  readonly hostile?: boolean;
  /** The simulator's origin; log_url and raw_log_url point here. */
  readonly apiUrl: string;
}

export interface GeneratedBuilds {
  readonly pipeline: SimPipeline;
  /** Newest first; every job embedded, retried attempts included. */
  readonly builds: readonly SimBuild[];
  /** The log of every started script job, by job id. */
  readonly logSpecs: ReadonlyMap<string, LogSpec>;
}

const OWNERS = [
  'tanyuqian',
  'njhill',
  'WoosukKwon',
  'youkaichao',
  'DarkLight1337',
  'heheda12345',
  'ApostaC',
  'KuntaiDu',
  'mgoin',
  'Isotr0py',
  'hmellor',
  'ywang96',
];
const TOPICS = [
  'fix-kv',
  'kv-connector-fix',
  'spec-decode-eagle',
  'fp8-moe',
  'v1-scheduler',
  'lora-refactor',
  'ci-speedup',
  'mm-cache',
  'fix-oom',
  'main',
  'nixl-v2',
  'async-sched',
];
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

type Outcome = 'passed' | 'failed' | 'soft' | 'lost' | 'timed_out' | 'canceled' | 'running' | 'waiting' | 'never';

const iso = (ms: number): string => new Date(ms).toISOString();

function isV1Others(label: string): boolean {
  return /v1 test others/i.test(label);
}

function withKvConnector(flakes: readonly FlakeKind[]): FlakeKind[] {
  return flakes.includes('kvConnector') ? [...flakes] : [...flakes, 'kvConnector'];
}

function pipelineUrl({ apiUrl, org, pipeline }: DatasetOptions): string {
  return `${apiUrl}/v2/organizations/${org}/pipelines/${pipeline}`;
}

export function generateBuilds(options: DatasetOptions): GeneratedBuilds {
  return new BuildGenerator(options).generate();
}

function describePipeline(options: DatasetOptions): SimPipeline {
  const { seed, org, pipeline, defaultBranch } = options;
  const rng = new Rng(mixSeed(seed, 13));
  const id = rng.uuid();
  return {
    id,
    graphql_id: Buffer.from(`Pipeline---${id}`).toString('base64'),
    url: pipelineUrl(options),
    web_url: `https://buildkite.com/${org}/${pipeline}`,
    name: pipeline,
    description: null,
    slug: pipeline,
    repository: REPOSITORY,
    branch_configuration: null,
    default_branch: defaultBranch,
    provider: { id: 'github', webhook_url: `https://webhook.buildkite.com/deliver/${rng.hex(50)}` },
    builds_url: `${pipelineUrl(options)}/builds`,
    badge_url: `https://badge.buildkite.com/${rng.hex(50)}.svg`,
    visibility: 'public',
    created_at: '2023-03-14T09:00:00.000Z',
    archived_at: null,
  };
}

class BuildGenerator {
  private readonly specs = new Map<string, LogSpec>();

  constructor(private readonly options: DatasetOptions) {}

  generate(): GeneratedBuilds {
    const { options } = this;
    const drafts: Draft[] = [];
    const newestNumber = Math.max(24_000, options.builds + 100);
    const created: number[] = [];
    let createdMs = NEWEST_MS;
    for (let i = 0; i < options.builds; i++) {
      created.push(createdMs);
      drafts.push(this.generateBuild(i, newestNumber - i, createdMs, null));
      createdMs -= new Rng(mixSeed(options.seed, 3, i)).int(90, 900) * 1000;
    }
    this.plantAnchors(drafts);
    // The scenarios take the place of builds without any flake, so that every flake planted
    // above stays where it is; those builds are made again, to order.
    const plan = planScenarios(options.seed, options.builds, (i) => !this.hasFlakes(drafts[i] as Draft));
    for (const [i, planned] of plan) {
      for (const job of (drafts[i] as Draft).build.jobs) this.specs.delete(job.id);
      drafts[i] = this.generateBuild(i, newestNumber - i, created[i] as number, planned);
    }
    const builds = drafts.map((d) => d.build);
    this.chooseBigLogs(builds);
    return { pipeline: describePipeline(options), builds, logSpecs: this.specs };
  }

  private hasFlakes(draft: Draft): boolean {
    return draft.build.jobs.some((j) => (this.specs.get(j.id)?.flakes.length ?? 0) > 0);
  }

  private apiBuildUrl(n: number): string {
    return `${pipelineUrl(this.options)}/builds/${n}`;
  }

  private generateBuild(index: number, number: number, createdMs: number, planned: PlannedBuild | null): Draft {
    const { seed, builds, org, pipeline, defaultBranch } = this.options;
    const rng = new Rng(mixSeed(seed, 5, index));
    const kindRoll = rng.next();
    const isPr = planned ? planned.kind === 'pr' : kindRoll < 0.68;
    const onDefaultBranch = planned ? planned.kind === 'default' : !isPr && kindRoll < 0.9;
    let branch: string;
    let pullRequest: SimPullRequest;
    if (isPr) {
      const prId = planned?.pr ?? String(rng.int(21_000, 26_999));
      const style = rng.next();
      branch = planned
        ? this.prBranch(prId)
        : style < 0.8
          ? `${rng.pick(OWNERS)}:${rng.pick(TOPICS)}`
          : style < 0.95
            ? `feature/${rng.pick(TOPICS)}`
            : `pull/${prId}/head`;
      pullRequest = { id: prId, base: defaultBranch, repository: REPOSITORY };
    } else if (planned?.kind === 'pr-branch') {
      branch = `pr/${planned.pr}`;
      pullRequest = null;
    } else {
      branch = onDefaultBranch
        ? defaultBranch
        : rng.pick(['releases/v0.11.1', `feature/${rng.pick(TOPICS)}`, 'nightly-ci']);
      pullRequest = rng.chance(0.5) ? null : {};
    }
    const source = isPr
      ? 'webhook'
      : onDefaultBranch
        ? rng.pick(['webhook', 'webhook', 'webhook', 'schedule', 'api'])
        : rng.pick(['ui', 'api', 'trigger_job']);
    const running = index < 2;
    const canceled = !running && rng.chance(0.05) && !planned;
    const webUrl = `https://buildkite.com/${org}/${pipeline}/builds/${number}`;
    const author = rng.pick(OWNERS);
    const startedMs = createdMs + rng.int(5, 90) * 1000;

    const steps: StepDef[] = [IMAGE_STEP];
    const pool = [...STEPS];
    // The planned step (a spelling of V1 Test others, or the decoy step) is always there.
    let plannedStep: StepDef | null = null;
    if (rng.chance(0.75) && !planned) {
      const label = index > builds / 2 ? (V1_OTHERS_LABELS[0] as string) : rng.pick(V1_OTHERS_LABELS);
      steps.push({ label, optional: true, gpu: !label.includes('CPU') });
    } else if (planned && isV1Others(planned.label)) {
      plannedStep = { label: planned.label, optional: true, gpu: !planned.label.includes('CPU') };
    } else if (planned) {
      const at = pool.findIndex((s) => s.label === planned.label);
      if (at < 0) throw new Error(`planned step ${planned.label} is not one of STEPS`);
      plannedStep = pool.splice(at, 1)[0] as StepDef;
    }
    if (plannedStep) steps.push(plannedStep);
    const target = rng.int(this.options.jobsPerBuild[0], this.options.jobsPerBuild[1]);
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
        runnable = rng.chance(0.5) || step === plannedStep;
        blocked ||= !runnable;
        jobs.push(this.blockJob(ctx, step.label, runnable, clock));
      }
      const total = step.parallel ? rng.int(step.parallel[0], step.parallel[1]) : 1;
      for (let p = 0; p < total; p++) {
        const attempts = step === plannedStep ? (planned as PlannedBuild).attempts : null;
        const stepJobs = this.scriptAttempts(ctx, step, runnable, clock, step.parallel ? { p, total } : null, attempts);
        for (const job of stepJobs) {
          if (job.finished_at) lastFinish = Math.max(lastFinish, Date.parse(job.finished_at));
          if (!job.retried && job.state === 'failed' && !job.soft_failed) anyFailed = true;
        }
        jobs.push(...stepJobs);
      }
      if (stepIndex === 0) clock += rng.int(8, 20) * 60_000;
    });
    if (onDefaultBranch && rng.chance(0.3)) {
      jobs.push({
        id: rng.uuid(),
        graphql_id: '',
        type: 'trigger',
        name: 'Trigger :docker: nightly release image',
        state: running ? 'waiting' : 'passed',
        build_url: this.apiBuildUrl(number),
        web_url: null,
        created_at: iso(createdMs),
        scheduled_at: iso(createdMs),
        runnable_at: null,
        started_at: null,
        finished_at: running ? null : iso(lastFinish),
        triggered_build: {
          id: rng.uuid(),
          number: rng.int(1000, 9000),
          url: `${this.options.apiUrl}/v2/organizations/${org}/pipelines/release/builds/1`,
          web_url: `https://buildkite.com/${org}/release/builds/1`,
        },
      });
    }
    for (const job of jobs)
      (job as { graphql_id: string }).graphql_id = Buffer.from(`Job---${job.id}`).toString('base64');

    const state = running ? 'running' : canceled ? 'canceled' : anyFailed ? 'failed' : 'passed';
    const build: SimBuild = {
      id: rng.uuid(),
      graphql_id: '',
      url: this.apiBuildUrl(number),
      web_url: webUrl,
      number,
      state,
      blocked,
      cancel_reason: canceled ? 'Superseded by a newer build' : null,
      message: `${rng.pick(MESSAGES)}${isPr ? ` (#${(pullRequest as { id: string }).id})` : ''}`,
      commit: rng.hex(40),
      branch,
      tag: null,
      env: {},
      source,
      author: { username: author, name: author, email: `${author.toLowerCase()}@users.noreply.github.com` },
      creator: source === 'ui' || source === 'api' ? { id: rng.uuid(), name: 'vLLM CI', email: 'ci@vllm.ai' } : null,
      created_at: iso(createdMs),
      scheduled_at: iso(createdMs),
      started_at: iso(startedMs),
      finished_at: running ? null : iso(lastFinish),
      meta_data: isPr ? { 'buildkite:git:commit': 'HEAD', docs_only: 'false' } : { 'buildkite:git:commit': 'HEAD' },
      pull_request: pullRequest,
      rebuilt_from: null,
      pipeline: { slug: pipeline, name: pipeline, url: pipelineUrl(this.options) },
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
      id,
      graphql_id: '',
      type: 'manual',
      label: text,
      name: rng.chance(0.5) ? text : null,
      state: unblocked ? 'unblocked' : 'blocked',
      web_url: null,
      unblocked_by: unblocked ? { id: rng.uuid(), name: rng.pick(OWNERS) } : null,
      unblocked_at: unblocked ? iso(clock) : null,
      unblockable: true,
      unblock_url: `${this.apiBuildUrl(ctx.number)}/jobs/${id}/unblock`,
    };
  }

  /**
   * One script step: its attempts in order, the superseded ones first (`retried: true`); drawn
   * at random, or as `planned` says.
   */
  private scriptAttempts(
    ctx: { rng: Rng; index: number; number: number; webUrl: string; running: boolean; canceled: boolean },
    step: StepDef,
    runnable: boolean,
    clock: number,
    parallel: { p: number; total: number } | null,
    planned: readonly PlannedAttempt[] | null,
  ): SimJob[] {
    const { rng, index, running, canceled } = ctx;
    let outcomes: Outcome[];
    if (planned) outcomes = planned.map((a) => a.outcome);
    else if (!runnable) outcomes = ['waiting'];
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
      const state = {
        passed: 'passed',
        failed: 'failed',
        soft: 'failed',
        lost: 'failed',
        timed_out: 'timed_out',
        canceled: 'canceled',
        running: 'running',
        waiting: 'waiting',
        never: 'canceled',
      }[outcome];
      const exit = {
        passed: 0,
        failed: 1,
        soft: 1,
        lost: -1,
        timed_out: -1,
        canceled: -1,
        running: null,
        waiting: null,
        never: null,
      }[outcome];
      const machine = step.gpu ? rng.pick(['gpu-l4', 'gpu-h100', 'gpu-a100']) : 'cpu';
      const agentName = `${machine}-${rng.int(1, 64)}-${rng.hex(6)}`;
      const job: SimJob = {
        id,
        graphql_id: '',
        type: 'script',
        name: step.label,
        step_key: null,
        state,
        build_url: this.apiBuildUrl(ctx.number),
        web_url: `${ctx.webUrl}#${id}`,
        log_url: `${this.apiBuildUrl(ctx.number)}/jobs/${id}/log`,
        raw_log_url: `${this.apiBuildUrl(ctx.number)}/jobs/${id}/log.txt`,
        command: `pytest -v -s ${isV1Others(step.label) ? 'v1' : 'tests'}`,
        soft_failed: outcome === 'soft',
        exit_status: exit,
        agent: started ? { id: rng.uuid(), name: agentName, hostname: agentName } : null,
        agent_query_rules: [step.gpu ? 'queue=gpu_1_queue' : 'queue=cpu_queue_premerge'],
        created_at: iso(clock),
        scheduled_at: iso(clock),
        runnable_at: started || outcome === 'never' ? iso(queueMs) : null,
        started_at: started ? iso(startMs) : null,
        finished_at: started && outcome !== 'running' ? iso(finishMs) : outcome === 'never' ? iso(queueMs) : null,
        retried: superseded,
        retried_in_job_id: superseded ? (ids[attempt + 1] as string) : null,
        retries_count: attempt > 0 ? attempt : null,
        retry_type: attempt > 0 ? (outcomes[attempt - 1] === 'lost' ? 'automatic' : 'manual') : null,
        parallel_group_index: parallel ? parallel.p : null,
        parallel_group_total: parallel ? parallel.total : null,
      };
      if (started) {
        this.specs.set(id, this.logSpec(rng, index, step, outcome, superseded, startMs, planned?.[attempt] ?? null));
      }
      return job;
    });
  }

  private logSpec(
    rng: Rng,
    index: number,
    step: StepDef,
    outcome: string,
    superseded: boolean,
    startMs: number,
    planned: PlannedAttempt | null,
  ): LogSpec {
    const old = index > this.options.builds * 0.8;
    const roll = rng.next();
    // A planned attempt's log is there to be read: never expired, never empty.
    const kind = planned
      ? 'text'
      : roll < (old ? 0.25 : 0.02)
        ? 'missing'
        : roll < (old ? 0.265 : 0.035)
          ? 'empty'
          : 'text';
    const flakeChance = superseded
      ? 0.6
      : outcome === 'failed' || outcome === 'timed_out' || outcome === 'lost'
        ? 0.35
        : outcome === 'passed'
          ? 0.04
          : 0;
    const flakes: FlakeKind[] = [];
    if (rng.chance(flakeChance)) {
      if (outcome === 'passed' || !step.gpu) flakes.push(rng.pick<FlakeKind>(['connectionReset', 'hfReadTimeout']));
      else if (rng.chance(isV1Others(step.label) ? 0.6 : 0.1)) flakes.push('kvConnector');
      else flakes.push(rng.pick(FLAKE_KINDS.filter((k) => k !== 'kvConnector')));
    }
    const logOutcome =
      outcome === 'soft' ? 'failed' : outcome === 'never' || outcome === 'waiting' ? 'canceled' : outcome;
    const seed = mixSeed(this.options.seed, 11, index, rng.int(0, 0x7fffffff));
    // The noise scenario: torch's import-time warning in every green GPU attempt of the step and
    // in a quarter of the others (picked by the log's seed, so no draw here moves the ones after).
    const pynvmlWarning = isV1Others(step.label) && step.gpu && (outcome === 'passed' || seed % 4 === 0);
    return {
      seed,
      kind,
      lines: rng.int(this.options.logLines[0], this.options.logLines[1]),
      startMs,
      label: step.label,
      outcome: logOutcome as LogSpec['outcome'],
      flakes,
      scenarios: planned?.scenario ? [planned.scenario] : [],
      pynvmlWarning,
      oddBytes: rng.chance(0.04),
      bigBytes: 0,
    };
  }

  /**
   * Guarantees the cases filter tests need, whatever the seed: the kv-connector flake in a recent
   * PR build's "V1 Test others" job, in a default-branch build, beyond the newest 200 builds, and in a job
   * of another step (which a step filter must exclude).
   */
  private plantAnchors(drafts: readonly Draft[]): void {
    const plant = (from: number, buildOk: (d: Draft) => boolean, jobOk: (j: SimJob) => boolean): void => {
      for (const draft of drafts.slice(from)) {
        if (!buildOk(draft)) continue;
        const jobs = draft.build.jobs.filter(
          (j) => j.type === 'script' && j.started_at && jobOk(j) && this.specs.has(j.id),
        );
        const job = jobs.find((j) => j.retried) ?? jobs.find((j) => j.state === 'failed') ?? jobs[0];
        if (!job) continue;
        const spec = this.specs.get(job.id) as LogSpec;
        this.specs.set(job.id, { ...spec, kind: 'text', flakes: withKvConnector(spec.flakes) });
        return;
      }
    };
    const v1 = (j: SimJob): boolean => isV1Others(j.name ?? '');
    const done = (d: Draft): boolean => d.build.state !== 'running';
    plant(0, (d) => done(d) && d.isPr && d.build.branch.includes(':'), v1);
    plant(0, (d) => done(d) && d.build.branch === this.options.defaultBranch, v1);
    plant(200, () => true, v1);
    plant(
      0,
      (d) => done(d) && d.isPr,
      (j) => !v1(j) && j.name !== IMAGE_STEP.label,
    );
  }

  /** A planned PR's branch: the same for all its builds. */
  private prBranch(prId: string): string {
    const rng = new Rng(mixSeed(this.options.seed, 29, Number(prId)));
    return `${rng.pick(OWNERS)}:${rng.pick(TOPICS)}`;
  }

  private chooseBigLogs(builds: readonly SimBuild[]): void {
    const { count, bytes } = this.options.bigLogs;
    if (count <= 0) return;
    const candidates = builds
      .flatMap((b) => b.jobs)
      .filter((j) => j.type === 'script' && !j.retried && this.specs.get(j.id)?.kind === 'text');
    const preferred = [
      ...candidates.filter((j) => isV1Others(j.name ?? '')),
      ...candidates.filter((j) => !isV1Others(j.name ?? '')),
    ];
    for (const job of preferred.slice(0, count)) {
      const spec = this.specs.get(job.id) as LogSpec;
      const singleLine = this.options.bigLogs.singleLine === true;
      this.specs.set(job.id, {
        ...spec,
        kind: 'big',
        bigBytes: bytes,
        flakes: withKvConnector(spec.flakes),
        singleLine,
      });
    }
  }
}

/**
 * Hostile data, applied to the dataset itself so the oracle sees what the server serves:
 * unknown states and job types, null names, `pull_request` `{}` or `{id: null}`, mistyped and
 * unknown fields, and builds without jobs (served as `jobs: null` or with no `jobs` key).
 * The oldest build is left alone and the newest keeps its jobs, so the filters still have
 * something to find.
 */
export function makeHostile(builds: readonly SimBuild[], seed: number): void {
  type Loose = Record<string, unknown>;
  builds.forEach((build, index) => {
    const rng = new Rng(mixSeed(seed, 77, index));
    const b = build as unknown as Loose;
    if (rng.chance(0.1)) b.state = 'frobnicated';
    if (rng.chance(0.1)) b.message = rng.int(1, 99_999);
    if (rng.chance(0.1)) b.unexpected_field = { nested: [1, { deep: null }], at: rng.hex(8) };
    if (build.pull_request && 'id' in build.pull_request && rng.chance(0.08))
      b.pull_request = rng.chance(0.5) ? {} : { id: null, base: null, repository: null };
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
