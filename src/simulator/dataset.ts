// The generated pipeline the simulator serves and the oracle reads: its builds and jobs
// (generate-builds.ts) and each job's log (job-logs.ts), looked up by build number and job id.

import type { SimBuild, SimJob, SimPipeline } from './api-objects.ts';
import { generateBuilds, makeHostile, type DatasetOptions } from './generate-builds.ts';
import { JobLogStore, type JobLogs } from './job-logs.ts';

export interface Dataset extends JobLogs {
  readonly org: string;
  /** The pipeline's slug. */
  readonly pipeline: string;
  readonly seed: number;
  /** The branch default-branch builds run on; `default_branch` of the pipeline object. */
  readonly defaultBranch: string;
  /** What `GET …/pipelines/{slug}` answers. */
  readonly pipelineObject: SimPipeline;
  /** Newest first; every job embedded, retried attempts included. */
  readonly builds: readonly SimBuild[];
  findBuild(number: number): SimBuild | undefined;
  findJob(jobId: string): { readonly build: SimBuild; readonly job: SimJob } | undefined;
}

class SimDataset extends JobLogStore implements Dataset {
  readonly org: string;
  readonly pipeline: string;
  readonly seed: number;
  readonly defaultBranch: string;
  readonly pipelineObject: SimPipeline;
  readonly builds: readonly SimBuild[];
  private readonly byNumber = new Map<number, SimBuild>();
  private readonly jobs = new Map<string, { build: SimBuild; job: SimJob }>();

  constructor(options: DatasetOptions) {
    const generated = generateBuilds(options);
    super(generated.logSpecs);
    this.org = options.org;
    this.pipeline = options.pipeline;
    this.seed = options.seed;
    this.defaultBranch = options.defaultBranch;
    this.pipelineObject = generated.pipeline;
    this.builds = generated.builds;
    // Indexed before the hostile mutation: a build served without its jobs still has them, and
    // their logs, as at Buildkite when a proxy or an API change drops the array.
    for (const build of this.builds) {
      this.byNumber.set(build.number, build);
      for (const job of build.jobs) this.jobs.set(job.id, { build, job });
    }
    if (options.hostile) makeHostile(this.builds, options.seed);
  }

  findBuild(number: number): SimBuild | undefined {
    return this.byNumber.get(number);
  }

  findJob(jobId: string): { build: SimBuild; job: SimJob } | undefined {
    return this.jobs.get(jobId);
  }
}

export function generateDataset(options: DatasetOptions): Dataset {
  return new SimDataset(options);
}
