// What a simulator can be asked to be (SimulatorOptions), the faults it can be switched to
// (Faults, failNext's kinds and modes) and what it counts (SimulatorStats).

export interface SimulatorOptions {
  /** Same seed, same dataset byte for byte (apart from the origin inside URLs). Default 1. */
  seed?: number;
  /** Default `vllm`. */
  org?: string;
  /** Default `ci`. */
  pipeline?: string;
  /** The pipeline's `default_branch`, which its non-PR mainline builds run on. Default `main`. */
  defaultBranch?: string;
  /** Builds in the pipeline, newest first. Default 300. */
  builds?: number;
  /** Script jobs per build (before retries and parallel fan-out). Default [6, 14]. */
  jobsPerBuild?: [number, number];
  /**
   * `default`: builds of `jobsPerBuild` script jobs (the tests' and the demo's dataset). `vllm`:
   * vllm/ci's sizes: the same builds, jobs and logs, padded with the rest of its 37 test groups
   * (shards, AMD mirrors, block jobs, waiters, retried attempts): about 266 jobs in full builds
   * (default branch, other branches, a third of PRs), some groups in most PR builds, none in
   * doc-only ones. See the README, "Shape and size".
   */
  shape?: 'default' | 'vllm';
  /** Lines per ordinary log. Default [40, 400]. */
  logLines?: [number, number];
  /**
   * `count` script jobs (newest "V1 Test others" first) get logs of about `bytes`, streamed.
   * With `singleLine`, the filler between head and tail is one line without a break (a
   * minified bundle dumped to the log), with a planted signature in its middle.
   */
  bigLogs?: { count: number; bytes: number; singleLine?: boolean };
  /**
   * Mutates some builds and jobs the way a changing API or a proxy might: unknown build and job
   * states and job types, null names, `pull_request: {}` and `{id: null}`, mistyped and unknown
   * fields, builds without a `jobs` array (or with `jobs: null`). The ground truth sees the same.
   */
  hostile?: boolean;
  /** Delay before each response head: fixed, or uniform in [min, max]. */
  latencyMs?: number | [number, number];
  /** Bytes per second for each log body (0 or unset: unlimited). */
  bandwidth?: number;
  /** Defaults: 60000 ms, org 400 (vLLM's), user 10000 (generous; Buildkite's default is 50). */
  rateLimit?: { windowMs?: number; orgLimit?: number; userLimit?: number };
  faults?: Partial<Faults>;
  /** Gzip log bodies when the request accepts it. */
  gzip?: boolean;
  /** Answer text-log requests with 302 to a second loopback origin that serves the bytes. */
  redirectLogs?: boolean;
  /** Listen port (default 0: any free port). */
  port?: number;
  /** Pages beyond this answer 400 "Listing builds this deep..." (Buildkite's threshold is undocumented). Default 50. */
  maxPage?: number;
  /**
   * Bytes of builds-list pages to keep once served and answer again from memory, by query (the
   * data is the same either way). The benchmark warms it so that rendering 50 MB pages does not
   * take the CPU of the CLI it measures. Default 0: every page is made as it is served.
   */
  pageCache?: number;
  /** Clock for the rate-limit windows, so tests need not sleep. Default Date.now. */
  now?: () => number;
}

export interface Faults {
  /** Fraction of requests answered 500/502/503 (the 502 an HTML page from a proxy). */
  error5xxRate: number;
  /** Fraction of log downloads whose connection is destroyed after part of the body. */
  cutRate: number;
  /**
   * Every N-th request (0 = off) starts a burst of `burstLength` 429s with reset 1. A burst
   * ends early when its second is over, so a client that waits for the reset it was told is
   * not refused again.
   */
  burst429: number;
  /** How many consecutive requests a 429 burst answers at most. Default 3. */
  burstLength: number;
  /** Fraction of requests delayed an extra `slowMs`. */
  slowRate: number;
  slowMs: number;
  /** Fraction of text-log requests answered with the JSON log shape (a misbehaving proxy). */
  jsonLogRate: number;
  /** Fraction of log bodies that stop sending for `stallMs` partway (the connection stays open). */
  stallRate: number;
  stallMs: number;
  /**
   * Fraction of jobs whose log always answers 503, chosen by job id, so every retry fails too.
   * `sim.brokenLog(jobId)` tells which.
   */
  failLogRate: number;
  /** 5xx JSON bodies echo the request's Authorization header, as a debugging proxy might. */
  echoAuth: boolean;
}

/**
 * Request kinds `failNext` can target: `token` (access-token), `pipeline` (the pipeline object),
 * `list` (builds list), `log` (either log endpoint), `redirect` (the log host redirects lead to),
 * `any` (every API request, the redirect host excepted).
 */
export type RequestKind = 'token' | 'pipeline' | 'list' | 'log' | 'redirect' | 'any';

/**
 * How `failNext` answers: an HTTP status (502 as a proxy's HTML page, others as JSON),
 * `reset` (the connection is destroyed before any response) or `hang` (no response until the
 * client gives up).
 */
export type FailureMode = number | 'reset' | 'hang';

export interface SimulatorStats {
  readonly requests: number;
  readonly listRequests: number;
  readonly buildRequests: number;
  readonly jobsRequests: number;
  /** Log requests to the API (JSON, text and log.txt), redirected or not. */
  readonly logRequests: number;
  readonly tokenRequests: number;
  readonly pipelineRequests: number;
  /** Requests to the redirect host. */
  readonly redirectRequests: number;
  readonly status429: number;
  readonly status5xx: number;
  readonly cuts: number;
  /** Log bodies that stalled (`stallRate`). */
  readonly stalls: number;
  /** Requests answered by `failNext`. */
  readonly scripted: number;
  /** Body bytes written (after gzip), both hosts. */
  readonly bytesSent: number;
  /** Of those, the builds list pages'. */
  readonly listBytes: number;
  /** Requests that reached the redirect host carrying an Authorization header or a token anywhere. */
  readonly redirectAuthLeaks: number;
  readonly byStatus: Readonly<Record<number, number>>;
  readonly inFlight: number;
  readonly maxInFlight: number;
}

type Mutable<T> = { -readonly [K in keyof T]: T[K] };
/** The counters as the simulator's parts update them; the `Simulator` hands them out read-only. */
export type MutableStats = Omit<Mutable<SimulatorStats>, 'byStatus'> & { byStatus: Record<number, number> };

export const NO_FAULTS: Faults = {
  error5xxRate: 0,
  cutRate: 0,
  burst429: 0,
  burstLength: 3,
  slowRate: 0,
  slowMs: 0,
  jsonLogRate: 0,
  stallRate: 0,
  stallMs: 0,
  failLogRate: 0,
  echoAuth: false,
};

export function emptyStats(): MutableStats {
  return {
    requests: 0,
    listRequests: 0,
    buildRequests: 0,
    jobsRequests: 0,
    logRequests: 0,
    tokenRequests: 0,
    pipelineRequests: 0,
    redirectRequests: 0,
    status429: 0,
    status5xx: 0,
    cuts: 0,
    stalls: 0,
    scripted: 0,
    bytesSent: 0,
    listBytes: 0,
    redirectAuthLeaks: 0,
    byStatus: {},
    inFlight: 0,
    maxInFlight: 0,
  };
}
