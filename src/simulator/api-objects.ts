// The objects the simulator's API answers with, shaped as Buildkite's (docs/buildkite-api.md,
// "Build fields" and "Job fields"): which fields a job has depends on its type, and several may be
// null. generate-builds.ts makes them; the oracle reads them; the routes serve them with the rest
// of the real API's field set (served-objects.ts), which is made as a page is served and never
// stored: see "Size of a real list page".

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
  readonly triggered_build?: {
    readonly id: string;
    readonly number: number;
    readonly url: string;
    readonly web_url: string;
  };
}

/** `{id, base, repository}` on PR builds; `null` or `{}` on others (both occur in the wild). */
export type SimPullRequest =
  { readonly id: string; readonly base: string; readonly repository: string } | Record<string, never> | null;

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
  /** Served with the pipeline object before them unless `exclude_pipeline=true` (served-objects.ts). */
  readonly jobs: readonly SimJob[];
}

/**
 * The pipeline object `GET …/pipelines/{slug}` answers, and every build of the list carries unless
 * `exclude_pipeline=true`. The fields a client reads are typed; the rest of Buildkite's (provider
 * settings, counters, steps, …) ride along untyped.
 */
export interface SimPipeline {
  readonly id: string;
  readonly graphql_id: string;
  readonly url: string;
  readonly web_url: string;
  readonly name: string;
  readonly description: string | null;
  readonly slug: string;
  readonly repository: string;
  readonly cluster_id: string | null;
  readonly cluster_url: string | null;
  readonly branch_configuration: string | null;
  readonly default_branch: string;
  readonly provider: { readonly id: string; readonly webhook_url: string; readonly settings: Record<string, unknown> };
  readonly builds_url: string;
  readonly badge_url: string;
  readonly visibility: 'public' | 'private';
  readonly created_at: string;
  readonly archived_at: string | null;
  readonly [field: string]: unknown;
}
