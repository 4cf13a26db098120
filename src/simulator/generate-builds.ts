// Generates the pipeline as the Buildkite API returns it, one build at a time from the seed and the
// build's index (0 is the newest), so that a dataset of thousands of builds is made on demand and
// never held whole: PR and default-branch builds with every job embedded (retried attempts
// included; the server hides those unless asked), block jobs, waiters, triggers, parallel steps and
// retry chains. Each started script job gets a LogSpec here, drawn in the same random sequence as
// the job; job-logs.ts renders its bytes. What is chosen across builds (anchors, scenario builds,
// big logs) is planned in plan-dataset.ts.
//
// The `vllm` shape pads each build to vllm/ci's size (steps.ts, VLLM_GROUPS) with jobs drawn from
// a second random sequence, so the jobs of the default shape, their logs and everything planned
// among them stay the same in both shapes: only the list pages grow.

import type { SimBuild, SimJob, SimPipeline, SimPullRequest } from './api-objects.ts';
import type { LogSpec } from './log-text.ts';
import { mixSeed, Rng } from './prng.ts';
import type { PlannedAttempt, PlannedBuild } from './scenarios.ts';
import { FLAKE_KINDS, type FlakeKind } from './signatures.ts';
import {
  AMD_IMAGE_STEP,
  amdMirror,
  blockLabel,
  IMAGE_STEP,
  STEPS,
  V1_OTHERS_LABELS,
  V1_OTHERS_SLOT,
  VLLM_GROUPS,
  type StepDef,
} from './steps.ts';

/** `default`: builds of 6-14 script jobs; `vllm`: vllm/ci's sizes (SimulatorOptions.shape). */
export type DatasetShape = 'default' | 'vllm';

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
  readonly shape: DatasetShape;
  /** Mutate some builds and jobs as a changing API or a proxy might (see SimulatorOptions.hostile). */
  readonly hostile?: boolean;
  /** The simulator's origin; log_url and raw_log_url point here. */
  readonly apiUrl: string;
}

/** One build as generated, before the plan's log changes and the hostile mutation. */
export interface GeneratedBuild {
  readonly build: SimBuild;
  readonly isPr: boolean;
  /**
   * The jobs the default shape has (all of them there): the vllm shape's padding is left out of
   * everything planned across builds, so that both shapes plant the same.
   */
  readonly base: readonly SimJob[];
  /** The log of every started script job, by job id. */
  readonly specs: Map<string, LogSpec>;
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

type Outcome = 'passed' | 'failed' | 'soft' | 'lost' | 'timed_out' | 'canceled' | 'running' | 'waiting' | 'never';

/** What the jobs of one build share while they are drawn. */
interface BuildContext {
  readonly rng: Rng;
  readonly index: number;
  readonly number: number;
  readonly webUrl: string;
  readonly isPr: boolean;
  readonly running: boolean;
  readonly canceled: boolean;
  /** Padding of the vllm shape: mostly green, as most of a real build is. */
  readonly padding: boolean;
}

const iso = (ms: number): string => new Date(ms).toISOString();

export function isV1Others(label: string): boolean {
  return /v1 test others/i.test(label);
}

export function pipelineUrl({ apiUrl, org, pipeline }: Pick<DatasetOptions, 'apiUrl' | 'org' | 'pipeline'>): string {
  return `${apiUrl}/v2/organizations/${org}/pipelines/${pipeline}`;
}

/**
 * The pipeline as `GET …/pipelines/{slug}` answers it, and as every build of the list carries it
 * unless `exclude_pipeline=true`: with its steps (vllm/ci uploads its real pipeline from a
 * bootstrap step), provider settings and counters.
 */
export function describePipeline(options: DatasetOptions): SimPipeline {
  const { seed, org, pipeline, defaultBranch } = options;
  const rng = new Rng(mixSeed(seed, 13));
  const id = rng.uuid();
  const url = pipelineUrl(options);
  const webhook = `https://webhook.buildkite.com/deliver/${rng.hex(50)}`;
  const badge = `https://badge.buildkite.com/${rng.hex(50)}.svg`;
  const clusterId = rng.uuid();
  const bootstrap =
    'if [[ -n "$BUILDKITE_PULL_REQUEST" && "$BUILDKITE_PULL_REQUEST" != "false" ]]; then\n' +
    '  export RUN_ALL=0\nfi\nbash .buildkite/scripts/bootstrap.sh';
  return {
    id,
    graphql_id: Buffer.from(`Pipeline---${id}`).toString('base64'),
    url,
    web_url: `https://buildkite.com/${org}/${pipeline}`,
    name: pipeline,
    description: 'vLLM CI: tests on NVIDIA and AMD GPUs, CPU and the docs',
    slug: pipeline,
    repository: REPOSITORY,
    cluster_id: clusterId,
    cluster_url: `${options.apiUrl}/v2/organizations/${org}/clusters/${clusterId}`,
    branch_configuration: null,
    default_branch: defaultBranch,
    skip_queued_branch_builds: true,
    skip_queued_branch_builds_filter: null,
    cancel_running_branch_builds: true,
    cancel_running_branch_builds_filter: `!${defaultBranch}`,
    allow_rebuilds: true,
    provider: {
      id: 'github',
      webhook_url: webhook,
      settings: {
        trigger_mode: 'code',
        build_pull_requests: true,
        pull_request_branch_filter_enabled: false,
        skip_builds_for_existing_commits: false,
        skip_pull_request_builds_for_existing_commits: true,
        build_pull_request_ready_for_review: true,
        build_pull_request_labels_changed: true,
        build_pull_request_forks: true,
        prefix_pull_request_fork_branch_names: true,
        build_branches: true,
        build_tags: false,
        cancel_deleted_branch_builds: true,
        publish_commit_status: true,
        publish_commit_status_per_step: false,
        separate_pull_request_statuses: false,
        publish_blocked_as_pending: true,
        use_step_key_as_commit_status: false,
        filter_enabled: false,
        repository: 'vllm-project/vllm',
        pull_request_branch_filter_configuration: '',
      },
    },
    builds_url: `${url}/builds`,
    badge_url: badge,
    created_by: {
      id: rng.uuid(),
      name: 'vLLM CI',
      email: 'ci@vllm.ai',
      avatar_url: 'https://www.gravatar.com/avatar/0',
    },
    created_at: '2023-03-14T09:00:00.000Z',
    archived_at: null,
    env: { DOCKER_BUILDKIT: '1', VLLM_CI_BRANCH: defaultBranch },
    scheduled_builds_count: 0,
    running_builds_count: 0,
    scheduled_jobs_count: 0,
    running_jobs_count: 0,
    waiting_jobs_count: 0,
    visibility: 'public',
    tags: ['gpu', 'python'],
    configuration:
      `steps:\n  - label: ":pipeline: Upload pipeline"\n    command: |\n` + `${bootstrap.replace(/^/gm, '      ')}\n`,
    steps: [
      {
        type: 'script',
        name: ':pipeline: Upload pipeline',
        command: bootstrap,
        artifact_paths: null,
        branch_configuration: null,
        env: {},
        timeout_in_minutes: null,
        agent_query_rules: ['queue=cpu_queue_premerge'],
        concurrency: null,
        parallelism: null,
      },
    ],
  };
}

/** A step's position in the vllm shape's pipeline order: the NVIDIA steps, then the AMD mirrors. */
const PIPELINE_ORDER: ReadonlyMap<string, number> = (() => {
  const order = new Map<string, number>();
  const steps = VLLM_GROUPS.flatMap((g) => g.steps);
  steps.forEach((step, i) => order.set(step.label, 10 + i));
  const amd = 10 + steps.length + 10;
  order.set(AMD_IMAGE_STEP.label, amd - 2);
  steps.forEach((step, i) => order.set(amdMirror(step).label, amd + i));
  return order;
})();

function orderOf(label: string): number {
  if (label === IMAGE_STEP.label) return 0;
  const known = PIPELINE_ORDER.get(label);
  if (known !== undefined) return known;
  // A spelling of "V1 Test others": next to the step it follows in the pipeline.
  const slot = label.startsWith(':amd:')
    ? amdMirror({ label: V1_OTHERS_SLOT, optional: true, gpu: true }).label
    : V1_OTHERS_SLOT;
  return (PIPELINE_ORDER.get(slot) as number) + 0.5;
}

/** The command a step's jobs run, as vLLM's pipeline generator renders it (one string per step). */
const commands = new Map<string, string>();
function commandFor(label: string): string {
  let command = commands.get(label);
  if (command === undefined) {
    const area = label
      .replace(/^(:[a-z0-9_+-]+: )+/, '')
      .replace(/^AMD: /, '')
      .replace(/ %N$/, '')
      .toLowerCase()
      .replace(/[^a-z0-9]+/g, '_')
      .replace(/^_|_$/g, '');
    const tests = isV1Others(label)
      ? 'v1/core v1/executor v1/kv_offload v1/sample v1/logits_processors v1/worker'
      : area;
    command =
      `cd /vllm-workspace/tests\npytest -v -s ${tests} --junitxml=/tmp/results/${area}.xml` +
      (label.includes('%N') ? ' --shard-id=$BUILDKITE_PARALLEL_JOB --num-shards=$BUILDKITE_PARALLEL_JOB_COUNT' : '');
    commands.set(label, command);
  }
  return command;
}

function queueRule(step: StepDef): string {
  if (step.label.startsWith(':amd:')) return step.gpu ? 'queue=amd_mi325_1' : 'queue=amd-cpu';
  return step.gpu ? 'queue=gpu_1_queue' : 'queue=cpu_queue_premerge';
}

export class BuildGenerator {
  /** The newest build's number; numbers go down by one per build. */
  readonly newestNumber: number;
  private readonly created: Float64Array;

  constructor(private readonly options: DatasetOptions) {
    this.newestNumber = Math.max(24_000, options.builds + 100);
    this.created = new Float64Array(options.builds);
    let createdMs = NEWEST_MS;
    for (let i = 0; i < options.builds; i++) {
      this.created[i] = createdMs;
      createdMs -= new Rng(mixSeed(options.seed, 3, i)).int(90, 900) * 1000;
    }
  }

  numberOf(index: number): number {
    return this.newestNumber - index;
  }

  /** The index of build `number`, or -1. */
  indexOf(number: number): number {
    const index = this.newestNumber - number;
    return Number.isSafeInteger(index) && index >= 0 && index < this.options.builds ? index : -1;
  }

  createdMs(index: number): number {
    return this.created[index] as number;
  }

  private apiBuildUrl(n: number): string {
    return `${pipelineUrl(this.options)}/builds/${n}`;
  }

  /** Build `index`, drawn at random or made to `planned`'s order; the same every time. */
  generate(index: number, planned: PlannedBuild | null): GeneratedBuild {
    const { seed, builds, org, pipeline, defaultBranch } = this.options;
    const number = this.numberOf(index);
    const createdMs = this.createdMs(index);
    const specs = new Map<string, LogSpec>();
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

    /** Jobs, each with its step's place in the pipeline (the vllm shape sorts by it). */
    const jobs: { job: SimJob; order: number; padding: boolean }[] = [];
    const ctx: BuildContext = { rng, index, number, webUrl, isPr, running, canceled, padding: false };
    let clock = startedMs;
    let anyFailed = false;
    let blocked = false;
    let lastFinish = startedMs;
    const addStep = (
      c: BuildContext,
      step: StepDef,
      blockChance: number,
      attempts: readonly PlannedAttempt[] | null,
      hold: boolean,
    ): void => {
      const order = orderOf(step.label);
      let runnable = true;
      if (hold || (c.isPr && step.optional && c.rng.chance(blockChance))) {
        runnable = !hold && (c.rng.chance(0.5) || step === plannedStep);
        blocked ||= !runnable;
        jobs.push({ job: this.blockJob(c, step.label, runnable, clock), order, padding: c.padding });
      }
      const total = step.parallel ? c.rng.int(step.parallel[0], step.parallel[1]) : 1;
      for (let p = 0; p < total; p++) {
        const parallel = step.parallel ? { p, total } : null;
        for (const job of this.scriptAttempts(c, step, runnable, clock, parallel, attempts, specs)) {
          if (job.finished_at) lastFinish = Math.max(lastFinish, Date.parse(job.finished_at));
          if (!job.retried && job.state === 'failed' && !job.soft_failed) anyFailed = true;
          jobs.push({ job, order, padding: c.padding });
        }
      }
    };
    steps.forEach((step, stepIndex) => {
      if (stepIndex === 1)
        jobs.push({ job: { id: rng.uuid(), graphql_id: '', type: 'waiter' }, order: 1, padding: false });
      addStep(ctx, step, 0.45, step === plannedStep ? (planned as PlannedBuild).attempts : null, false);
      if (stepIndex === 0) clock += rng.int(8, 20) * 60_000;
    });
    let docsOnly = false;
    if (this.options.shape === 'vllm') {
      // A second sequence, so that the jobs above come out the same in both shapes.
      const padRng = new Rng(mixSeed(seed, 6, index));
      const nightly = branch === 'nightly-ci' || source === 'schedule';
      const present = new Set(steps.map((s) => s.label));
      const padCtx: BuildContext = { ...ctx, rng: padRng, padding: true };
      const { steps: padding, full } = this.paddingSteps(padRng, isPr, present);
      docsOnly = padding.length === 0;
      for (const { step, nightlyOnly } of padding) {
        // A PR that asked for the full run runs it without block jobs.
        addStep(padCtx, step, full ? 0 : 0.45, null, nightlyOnly && !nightly);
        if (step === AMD_IMAGE_STEP) {
          const waiter: SimJob = { id: padRng.uuid(), graphql_id: '', type: 'waiter' };
          jobs.push({ job: waiter, order: orderOf(step.label) + 1, padding: true });
        }
      }
    }
    if (onDefaultBranch && rng.chance(0.3)) {
      jobs.push({
        job: {
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
        },
        order: Number.POSITIVE_INFINITY,
        padding: false,
      });
    }
    const baseJobs = jobs.filter((j) => !j.padding).map((j) => j.job);
    // Array.prototype.sort is stable: a step's block job stays before its attempts, in order.
    if (this.options.shape === 'vllm') jobs.sort((a, b) => a.order - b.order);
    const all = jobs.map((j) => j.job);
    for (const job of all)
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
      meta_data: isPr
        ? { 'buildkite:git:commit': 'HEAD', docs_only: String(docsOnly) }
        : { 'buildkite:git:commit': 'HEAD' },
      pull_request: pullRequest,
      rebuilt_from: null,
      jobs: all,
    };
    (build as { graphql_id: string }).graphql_id = Buffer.from(`Build---${build.id}`).toString('base64');
    return { build, isPr, base: baseJobs, specs };
  }

  /**
   * The steps the vllm shape adds to a build, in pipeline order, leaving out those it has (and
   * "V1 Test others", which the default shape places): every group in full builds (default
   * branch, other branches, and PRs that asked for the full run), some groups in other PR builds,
   * none in doc-only PRs. `nightlyOnly` steps wait behind a block job outside nightly builds.
   */
  private paddingSteps(
    rng: Rng,
    isPr: boolean,
    present: ReadonlySet<string>,
  ): { steps: { step: StepDef; nightlyOnly: boolean }[]; full: boolean } {
    const roll = rng.next();
    if (isPr && roll < 0.1) return { steps: [], full: false };
    const full = !isPr || roll < 0.45;
    const nvidia: { step: StepDef; nightlyOnly: boolean }[] = [];
    const amd: { step: StepDef; nightlyOnly: boolean }[] = [];
    for (const group of VLLM_GROUPS) {
      if (!full && !rng.chance(0.3)) continue;
      const mirrored = group.amd && (full || rng.chance(0.5));
      for (const step of group.steps) {
        const nightlyOnly = group.nightly === true;
        if (!present.has(step.label)) nvidia.push({ step, nightlyOnly });
        const mirror = amdMirror(step);
        if (mirrored && !present.has(mirror.label)) amd.push({ step: mirror, nightlyOnly });
      }
    }
    const steps = amd.length > 0 ? [...nvidia, { step: AMD_IMAGE_STEP, nightlyOnly: false }, ...amd] : nvidia;
    return { steps, full };
  }

  private blockJob(ctx: BuildContext, label: string, unblocked: boolean, clock: number): SimJob {
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

  /** How one attempt chain ends, drawn: padding is mostly green, as most of a real build is. */
  private drawOutcomes(ctx: BuildContext, runnable: boolean): Outcome[] {
    const { rng, running, canceled } = ctx;
    if (!runnable) return ['waiting'];
    if (running) return [rng.pick<Outcome>(['running', 'running', 'passed', 'waiting'])];
    if (canceled && rng.chance(0.5)) return [rng.pick<Outcome>(['never', 'canceled'])];
    const r = rng.next();
    // [passed, failed, soft-failed, retried, timed out]; the rest canceled.
    const [p, f, s, retried, t] = ctx.padding ? [0.955, 0.97, 0.98, 0.996, 0.998] : [0.78, 0.86, 0.89, 0.97, 0.985];
    if (r < p) return ['passed'];
    if (r < f) return ['failed'];
    if (r < s) return ['soft'];
    if (r < retried) {
      const outcomes: Outcome[] = [rng.chance(0.6) ? 'lost' : 'failed'];
      if (rng.chance(0.15)) outcomes.push('failed');
      outcomes.push(rng.chance(0.8) ? 'passed' : 'failed');
      return outcomes;
    }
    if (r < t) return ['timed_out'];
    return ['canceled'];
  }

  /**
   * One script step: its attempts in order, the superseded ones first (`retried: true`); drawn
   * at random, or as `planned` says. Each started attempt's log spec goes into `specs`.
   */
  private scriptAttempts(
    ctx: BuildContext,
    step: StepDef,
    runnable: boolean,
    clock: number,
    parallel: { p: number; total: number } | null,
    planned: readonly PlannedAttempt[] | null,
    specs: Map<string, LogSpec>,
  ): SimJob[] {
    const { rng, index } = ctx;
    const outcomes: Outcome[] = planned ? planned.map((a) => a.outcome) : this.drawOutcomes(ctx, runnable);
    const ids = outcomes.map(() => rng.uuid());
    const queueMs = clock + rng.int(10, 600) * 1000;
    const amd = step.label.startsWith(':amd:');
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
      const machines = amd ? ['mi325-1', 'mi325-2', 'mi300-1'] : ['gpu-l4', 'gpu-h100', 'gpu-a100'];
      const machine = step.gpu ? rng.pick(machines) : 'cpu';
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
        command: commandFor(step.label),
        soft_failed: outcome === 'soft',
        exit_status: exit,
        agent: started ? { id: rng.uuid(), name: agentName, hostname: agentName } : null,
        agent_query_rules: [queueRule(step)],
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
      if (started)
        specs.set(id, this.logSpec(rng, index, step, outcome, superseded, startMs, planned?.[attempt] ?? null));
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

  /** A planned PR's branch: the same for all its builds. */
  private prBranch(prId: string): string {
    const rng = new Rng(mixSeed(this.options.seed, 29, Number(prId)));
    return `${rng.pick(OWNERS)}:${rng.pick(TOPICS)}`;
  }
}

/**
 * Hostile data, applied to the dataset itself so the oracle sees what the server serves:
 * unknown states and job types, null names, `pull_request` `{}` or `{id: null}`, mistyped and
 * unknown fields, and builds without jobs (served as `jobs: null` or with no `jobs` key).
 * The newest build keeps its jobs, so the filters still have something to find. Build `index`
 * is mutated the same way whenever it is generated.
 */
export function makeBuildHostile(build: SimBuild, index: number, seed: number): void {
  type Loose = Record<string, unknown>;
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
}
