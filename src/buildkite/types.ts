// Shapes of Buildkite API answers that only the client reads. The builds and jobs themselves are
// plain data of the core (src/core/build.ts).

/** `GET /v2/access-token`. */
export interface BuildkiteAccessToken {
  readonly uuid?: string;
  readonly scopes?: readonly string[];
}
