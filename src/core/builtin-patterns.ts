// The built-in patterns: used when a scan is given no pattern, and planted by the simulator so
// that a default scan has something to find. One constant for both, so they cannot drift.

/**
 * Three regular expressions for vLLM's multi-connector KV-cache flake: its pytest summary line,
 * its assertion detail, and a token count that appears inside several of its lines.
 */
export const BUILTIN_PATTERNS: readonly string[] = Object.freeze([
  String.raw`FAILED .*::test_multi_shared_storage_connector_consistency\b`,
  String.raw`At index 2 diff: 'get_num_new_matched_tokens 96' != 'build_connector_meta'`,
  String.raw`get_num_new_matched_tokens 96`,
]);
