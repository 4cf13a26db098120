// The failure lines the simulator plants in job logs: the ground truth a scan should find.
// They are real vLLM CI failure texts; the kv-connector trio is what the built-in patterns find.

import { BUILTIN_PATTERNS } from '../core/builtin-patterns.ts';

/** Substrings a user would search for. Each is planted verbatim in the clean text of some logs. */
export const SIGNATURES = {
  /** pytest summary line of the multi-connector flake (the first built-in pattern matches it). */
  kvFailed:
    'FAILED v1/kv_connector/unit/test_multi_connector.py::test_multi_shared_storage_connector_consistency - AssertionError',
  /** The assertion detail line of the same flake (the second built-in pattern). */
  kvIndexDiff: "At index 2 diff: 'get_num_new_matched_tokens 96' != 'build_connector_meta'",
  /** Appears inside several other lines of the same flake (the third built-in pattern). */
  kvTokens: 'get_num_new_matched_tokens 96',
  cudaIllegalAccess: 'RuntimeError: CUDA error: an illegal memory access was encountered',
  cudaOutOfMemory: 'torch.OutOfMemoryError: CUDA out of memory',
  connectionReset: 'ConnectionResetError: [Errno 104] Connection reset by peer',
  hfReadTimeout:
    "requests.exceptions.ReadTimeout: HTTPSConnectionPool(host='huggingface.co', port=443): Read timed out.",
} as const;

export type SignatureId = keyof typeof SIGNATURES;

/**
 * A flake is what gets planted in one log: `kvConnector` writes the whole failure section
 * (kvFailed, kvIndexDiff and kvTokens lines); the others write one traceback each.
 */
export const FLAKE_KINDS = [
  'kvConnector',
  'cudaIllegalAccess',
  'cudaOutOfMemory',
  'connectionReset',
  'hfReadTimeout',
] as const;

export type FlakeKind = (typeof FLAKE_KINDS)[number];

/** The built-in regex patterns; every kvConnector flake matches all three. */
export { BUILTIN_PATTERNS };

/** @deprecated The former name of BUILTIN_PATTERNS, still imported by tests outside the simulator's. */
export const SPEC_PATTERNS: readonly string[] = BUILTIN_PATTERNS;

/**
 * Texts planted so that a scan with the default query (the newest 200 builds, branch regex
 * `^pull/|^pr/`, step `v1 Test others`, baseline branch `main`, min-prs 2) with these texts as
 * literal patterns gives each the verdict named here. Where and how each is planted:
 * scenarios.ts; the evidence each gets: README, "Planted flakes".
 */
export const VERDICT_SCENARIOS = {
  /** Failed attempts in builds of three PRs, never passed on retry: flaky by spread. */
  sharedPrs: {
    text: 'FAILED v1/engine/test_engine_core_client.py::test_engine_core_client_asyncio - TimeoutError: no output in 60s',
    verdict: 'flaky',
  },
  /** Failed attempts in two builds of one PR; also in another step of two other PRs (a decoy). */
  singlePr: {
    text: 'FAILED v1/sample/test_topk_topp_sampler.py::test_topk_impl_equivalence - AssertionError: Tensors not close!',
    verdict: 'single',
  },
  /** A failed attempt in a build of the default branch, and one in a PR's build. */
  onMain: {
    text: 'FAILED v1/core/test_kv_cache_utils.py::test_kv_cache_config - ValueError: No available memory for cache blocks',
    verdict: 'broken-main',
  },
  /** A failed attempt of one PR's build whose retry passed. */
  retryPassed: {
    text: 'FAILED v1/entrypoints/openai/test_completion.py::test_streaming[opt-125m] - httpx.ReadTimeout: timed out',
    verdict: 'flaky',
  },
  /** Both attempts of one PR's job failed with it: maybe the change's own breakage. */
  retryFailed: {
    text: 'FAILED v1/spec_decode/test_eagle.py::test_propose[eagle3] - RuntimeError: shape [4, 2048] != [4, 4096]',
    verdict: 'single',
  },
  /** torch's import-time warning, printed by every GPU job of the step, green ones included. */
  noise: {
    text: 'FutureWarning: The pynvml package is deprecated. Please install nvidia-ml-py instead.',
    verdict: 'noise',
  },
} as const;

export type VerdictScenarioId = keyof typeof VERDICT_SCENARIOS;
