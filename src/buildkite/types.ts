// Shapes of Buildkite API answers that only the client reads. The builds and jobs themselves are
// plain data of the core (src/core/build.ts).

/** `GET /v2/organizations/{org}/pipelines/{pipeline}`: the fields flake-checker reads. */
export interface BuildkitePipeline {
  /** The baseline branch (vLLM: `main`). */
  readonly default_branch: string | null;
  /** The Git URL, e.g. `https://github.com/vllm-project/vllm.git`: where PR numbers point. */
  readonly repository: string | null;
}

/** `GET /v2/access-token`. */
export interface BuildkiteAccessToken {
  readonly uuid?: string;
  readonly scopes?: readonly string[];
}
