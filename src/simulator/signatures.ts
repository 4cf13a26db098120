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
