// The generated pipeline the simulator serves and the oracle reads: its builds and jobs
// (generate-builds.ts, planned across builds by plan-dataset.ts) and each job's log (job-logs.ts),
// looked up by index, build number and job id. Builds are made on demand from the seed and their
// index and kept in a cache bounded by their jobs, so a dataset of thousands of vLLM-sized builds
// is served without being held: only the plan (a few bytes per job) stays.

import type { SimBuild, SimJob, SimPipeline } from './api-objects.ts';
import {
  BuildGenerator,
  describePipeline,
  makeBuildHostile,
  type DatasetOptions,
  type DatasetShape,
} from './generate-builds.ts';
import { JobLogStore, type JobLogs } from './job-logs.ts';
import type { LogSpec } from './log-text.ts';
import { applySpecChange, planDataset, type DatasetPlan } from './plan-dataset.ts';

export interface Dataset extends JobLogs {
  readonly org: string;
  /** The pipeline's slug. */
  readonly pipeline: string;
  readonly seed: number;
  readonly shape: DatasetShape;
  /** The branch default-branch builds run on; `default_branch` of the pipeline object. */
  readonly defaultBranch: string;
  /** What `GET …/pipelines/{slug}` answers. */
  readonly pipelineObject: SimPipeline;
  /** Builds in the pipeline. */
  readonly buildCount: number;
  /** Jobs in the pipeline, retried attempts included. */
  readonly jobCount: number;
  /** Build `index` (0 is the newest), every job embedded, retried attempts included. */
  buildAt(index: number): SimBuild;
  /**
   * Every build, newest first, made once and kept. For datasets up to MATERIALIZED_JOBS_MAX jobs
   * (tests, the demo); a larger one is read with `buildAt`.
   */
  readonly builds: readonly SimBuild[];
  /** What the builds list filters on, without making the build: its number, branch, state and creation time. */
  summary(index: number): {
    readonly number: number;
    readonly branch: string;
    readonly state: string;
    readonly createdMs: number;
  };
  findBuild(number: number): SimBuild | undefined;
  findJob(jobId: string): { readonly build: SimBuild; readonly job: SimJob } | undefined;
}

/** Past this many jobs, `builds` refuses (about 1 GB of objects at the vllm shape's size). */
export const MATERIALIZED_JOBS_MAX = 250_000;

/** Jobs of the builds kept made; older ones are dropped and made again when asked for. */
const CACHED_JOBS_MAX = 20_000;

/** One made build: the build as served, and its jobs and logs as they were made. */
interface MadeBuild {
  readonly build: SimBuild;
  /** By id, including the jobs of a build the hostile mutation served without them. */
  readonly jobs: ReadonlyMap<string, SimJob>;
  readonly specs: ReadonlyMap<string, LogSpec>;
}

class SimDataset extends JobLogStore implements Dataset {
  readonly org: string;
  readonly pipeline: string;
  readonly seed: number;
  readonly shape: DatasetShape;
  readonly defaultBranch: string;
  readonly pipelineObject: SimPipeline;
  readonly buildCount: number;
  private readonly generator: BuildGenerator;
  private readonly plan: DatasetPlan;
  private readonly cache = new Map<number, MadeBuild>();
  private cachedJobs = 0;
  private all: readonly MadeBuild[] | null = null;
  private allBuilds: readonly SimBuild[] = [];

  constructor(private readonly options: DatasetOptions) {
    super();
    this.org = options.org;
    this.pipeline = options.pipeline;
    this.seed = options.seed;
    this.shape = options.shape;
    this.defaultBranch = options.defaultBranch;
    this.buildCount = options.builds;
    this.pipelineObject = describePipeline(options);
    this.generator = new BuildGenerator(options);
    this.plan = planDataset(options, this.generator);
  }

  get jobCount(): number {
    return this.plan.jobCount;
  }

  get builds(): readonly SimBuild[] {
    if (!this.all) {
      if (this.jobCount > MATERIALIZED_JOBS_MAX) {
        throw new Error(
          `dataset.builds would hold ${this.jobCount} jobs: read a dataset this large with buildAt(index)`,
        );
      }
      this.all = Array.from({ length: this.buildCount }, (_, i) => this.made(i));
      this.allBuilds = this.all.map((m) => m.build);
      this.cache.clear();
      this.cachedJobs = 0;
    }
    return this.allBuilds;
  }

  buildAt(index: number): SimBuild {
    if (!Number.isInteger(index) || index < 0 || index >= this.buildCount)
      throw new Error(`no build at index ${index}`);
    return this.made(index).build;
  }

  summary(index: number): { number: number; branch: string; state: string; createdMs: number } {
    return {
      number: this.generator.numberOf(index),
      branch: this.plan.branches[index] as string,
      state: this.plan.states[index] as string,
      createdMs: this.generator.createdMs(index),
    };
  }

  findBuild(number: number): SimBuild | undefined {
    const index = this.generator.indexOf(number);
    return index < 0 ? undefined : this.made(index).build;
  }

  findJob(jobId: string): { build: SimBuild; job: SimJob } | undefined {
    const found = this.madeWith(jobId);
    return found && { build: found.build, job: found.jobs.get(jobId) as SimJob };
  }

  protected logSpec(jobId: string): LogSpec | undefined {
    return this.madeWith(jobId)?.specs.get(jobId);
  }

  private madeWith(jobId: string): MadeBuild | undefined {
    for (const index of this.plan.jobIndex.candidates(jobId)) {
      const made = this.made(index);
      if (made.jobs.has(jobId)) return made;
    }
    return undefined;
  }

  /** Build `index` as served, from the cache or made afresh (the same every time). */
  private made(index: number): MadeBuild {
    if (this.all) return this.all[index] as MadeBuild;
    const cached = this.cache.get(index);
    if (cached) {
      // Most recently used last: the Map's order is the eviction order.
      this.cache.delete(index);
      this.cache.set(index, cached);
      return cached;
    }
    const generated = this.generator.generate(index, this.plan.scenarios.get(index) ?? null);
    const specs = new Map<string, LogSpec>();
    for (const [id, spec] of generated.specs) specs.set(id, applySpecChange(spec, this.plan.specChanges.get(id)));
    // Indexed before the hostile mutation: a build served without its jobs still has them, and
    // their logs, as at Buildkite when a proxy or an API change drops the array.
    const jobs = new Map(generated.build.jobs.map((j) => [j.id, j]));
    if (this.options.hostile) makeBuildHostile(generated.build, index, this.seed);
    const made: MadeBuild = { build: generated.build, jobs, specs };
    this.cache.set(index, made);
    this.cachedJobs += jobs.size;
    for (const [old, m] of this.cache) {
      if (this.cachedJobs <= CACHED_JOBS_MAX || this.cache.size <= 1) break;
      this.cache.delete(old);
      this.cachedJobs -= m.jobs.size;
    }
    return made;
  }
}

export function generateDataset(options: DatasetOptions): Dataset {
  return new SimDataset(options);
}
