// The builds and jobs the core works on: plain data, the parts of Buildkite's REST API v2
// objects that flake-checker reads. The client (src/buildkite/) turns API answers into these.
// Every field is optional or nullable on purpose: the API (and proxies in front of it) may omit
// or null any of them, and the scan must survive that (docs/buildkite-api.md, "Build fields",
// "Job fields").

/** A job embedded in a build of the builds list. */
export interface BuildkiteJob {
  readonly id: string;
  /** `script` | `waiter` | `manual` (block step) | `trigger`; only script jobs have logs. */
  readonly type?: string | null;
  /** The step label as written, emoji shortcodes included. Script jobs carry it here. */
  readonly name?: string | null;
  /** Documented only on `manual` (block) jobs; read after `name`. */
  readonly label?: string | null;
  readonly state?: string | null;
  readonly web_url?: string | null;
  readonly raw_log_url?: string | null;
  readonly started_at?: string | null;
  readonly finished_at?: string | null;
  readonly exit_status?: number | null;
  readonly soft_failed?: boolean | null;
  /** True on a superseded attempt (only listed with `include_retried_jobs=true`). */
  readonly retried?: boolean | null;
  readonly retried_in_job_id?: string | null;
  readonly retries_count?: number | null;
}

export interface BuildkitePullRequest {
  readonly id?: string | number | null;
  readonly base?: string | null;
  readonly repository?: string | null;
}

/** A build from `GET /v2/organizations/{org}/pipelines/{pipeline}/builds`. */
export interface BuildkiteBuild {
  readonly id?: string;
  readonly number: number;
  readonly state?: string | null;
  readonly branch?: string | null;
  readonly commit?: string | null;
  readonly message?: string | null;
  readonly web_url?: string | null;
  readonly created_at?: string | null;
  readonly started_at?: string | null;
  readonly finished_at?: string | null;
  readonly source?: string | null;
  /** `{id, base, repository}` on PR builds; `null` or `{}` otherwise. */
  readonly pull_request?: BuildkitePullRequest | null;
  readonly jobs?: readonly BuildkiteJob[] | null;
}
