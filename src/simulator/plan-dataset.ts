// What is chosen across builds, planned once when the dataset is made: the anchors filter tests
// need, the builds that carry the verdict scenarios (scenarios.ts) and the big logs; and what the
// server needs without generating builds: each build's branch and state (the list's filters) and
// which build each job id is in. One pass over every build, each generated and dropped, so that
// planning 5000 vLLM-sized builds holds one build at a time. Only the jobs of the default shape
// are chosen among (GeneratedBuild.base), so both shapes plant the same.

import type { SimJob } from './api-objects.ts';
import {
  BuildGenerator,
  isV1Others,
  makeBuildHostile,
  type DatasetOptions,
  type GeneratedBuild,
} from './generate-builds.ts';
import { JobIndex } from './job-index.ts';
import type { LogSpec } from './log-text.ts';
import { planScenarios, type PlannedBuild } from './scenarios.ts';
import type { FlakeKind } from './signatures.ts';
import { IMAGE_STEP } from './steps.ts';

/** How the plan changes a job's log from what generation drew. */
export interface SpecChange {
  /** An anchor: the kv-connector flake, in a log that exists. */
  readonly anchor?: boolean;
  /** A big log of about `bytes`, streamed (with the kv-connector flake). */
  readonly big?: { readonly bytes: number; readonly singleLine: boolean };
}

export interface DatasetPlan {
  /** Builds made to order for the verdict scenarios, by index. */
  readonly scenarios: ReadonlyMap<number, PlannedBuild>;
  readonly specChanges: ReadonlyMap<string, SpecChange>;
  /** Each build's branch and state as served (hostile mutation included), by index. */
  readonly branches: readonly string[];
  readonly states: readonly string[];
  readonly jobIndex: JobIndex;
  /** Jobs in the dataset, retried attempts and the jobs of hostile jobless builds included. */
  readonly jobCount: number;
}

function withKvConnector(flakes: readonly FlakeKind[]): FlakeKind[] {
  return flakes.includes('kvConnector') ? [...flakes] : [...flakes, 'kvConnector'];
}

export function applySpecChange(spec: LogSpec, change: SpecChange | undefined): LogSpec {
  if (!change) return spec;
  let out = spec;
  if (change.anchor) out = { ...out, kind: 'text', flakes: withKvConnector(out.flakes) };
  if (change.big) {
    const { bytes, singleLine } = change.big;
    out = { ...out, kind: 'big', bigBytes: bytes, flakes: withKvConnector(out.flakes), singleLine };
  }
  return out;
}

interface AnchorRule {
  readonly from: number;
  readonly buildOk: (g: GeneratedBuild) => boolean;
  readonly jobOk: (job: SimJob) => boolean;
  found: boolean;
}

export function planDataset(options: DatasetOptions, generator: BuildGenerator): DatasetPlan {
  const n = options.builds;
  const specChanges = new Map<string, SpecChange>();
  const branches: string[] = new Array<string>(n);
  const states: string[] = new Array<string>(n);
  const jobIndex = new JobIndex();
  const free = new Uint8Array(n);
  const rules = anchorRules(options);
  const spec = (g: GeneratedBuild, id: string): LogSpec | undefined => {
    const drawn = g.specs.get(id);
    return drawn && applySpecChange(drawn, specChanges.get(id));
  };
  /** Indexes a build's jobs and notes its branch and state as served. */
  const note = (index: number, g: GeneratedBuild): void => {
    for (const job of g.build.jobs) jobIndex.add(job.id, index);
    if (options.hostile) makeBuildHostile(g.build, index, options.seed);
    branches[index] = g.build.branch;
    states[index] = g.build.state;
  };
  for (let i = 0; i < n; i++) {
    const g = generator.generate(i, null);
    plantAnchors(rules, i, g, specChanges);
    free[i] = g.base.some((j) => (spec(g, j.id)?.flakes.length ?? 0) > 0) ? 0 : 1;
    note(i, g);
  }
  // The scenarios take the place of builds without any flake, so that every flake planted above
  // stays where it is; those builds are made again, to order.
  const scenarios = planScenarios(options.seed, n, (i) => free[i] === 1);
  for (const [i, planned] of scenarios) note(i, generator.generate(i, planned));
  chooseBigLogs(options, generator, scenarios, specChanges);
  return { scenarios, specChanges, branches, states, jobIndex, jobCount: jobIndex.count };
}

/**
 * The cases filter tests need, whatever the seed: the kv-connector flake in a recent PR build's
 * "V1 Test others" job, in a default-branch build, beyond the newest 200 builds, and in a job of
 * another step (which a step filter must exclude). Each in the first build, in order, that has a
 * job to plant it in.
 */
function anchorRules(options: DatasetOptions): AnchorRule[] {
  const v1 = (j: SimJob): boolean => isV1Others(j.name ?? '');
  const done = (g: GeneratedBuild): boolean => g.build.state !== 'running';
  return [
    { from: 0, buildOk: (g) => done(g) && g.isPr && g.build.branch.includes(':'), jobOk: v1, found: false },
    { from: 0, buildOk: (g) => done(g) && g.build.branch === options.defaultBranch, jobOk: v1, found: false },
    { from: 200, buildOk: () => true, jobOk: v1, found: false },
    {
      from: 0,
      buildOk: (g) => done(g) && g.isPr,
      jobOk: (j) => !v1(j) && j.name !== IMAGE_STEP.label,
      found: false,
    },
  ];
}

function plantAnchors(rules: AnchorRule[], index: number, g: GeneratedBuild, changes: Map<string, SpecChange>): void {
  for (const rule of rules) {
    if (rule.found || index < rule.from || !rule.buildOk(g)) continue;
    const jobs = g.base.filter((j) => j.type === 'script' && j.started_at && rule.jobOk(j) && g.specs.has(j.id));
    const job = jobs.find((j) => j.retried) ?? jobs.find((j) => j.state === 'failed') ?? jobs[0];
    if (!job) continue;
    changes.set(job.id, { ...changes.get(job.id), anchor: true });
    rule.found = true;
  }
}

/**
 * `bigLogs.count` latest attempts with a text log become big logs: newest "V1 Test others" ones
 * first, then others. Builds are generated from the newest until enough are found.
 */
function chooseBigLogs(
  options: DatasetOptions,
  generator: BuildGenerator,
  scenarios: ReadonlyMap<number, PlannedBuild>,
  changes: Map<string, SpecChange>,
): void {
  const { count, bytes } = options.bigLogs;
  if (count <= 0) return;
  const chosen: string[] = [];
  for (const wantV1 of [true, false]) {
    for (let i = 0; i < options.builds && chosen.length < count; i++) {
      const g = generator.generate(i, scenarios.get(i) ?? null);
      for (const job of g.base) {
        if (chosen.length >= count) break;
        if (job.type !== 'script' || job.retried || isV1Others(job.name ?? '') !== wantV1) continue;
        const drawn = g.specs.get(job.id);
        if (drawn && applySpecChange(drawn, changes.get(job.id)).kind === 'text') chosen.push(job.id);
      }
    }
  }
  const big = { bytes, singleLine: options.bigLogs.singleLine === true };
  for (const id of chosen) changes.set(id, { ...changes.get(id), big });
}
