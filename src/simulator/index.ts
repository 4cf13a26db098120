// The Buildkite simulator: a loopback stand-in for Buildkite's REST API v2 with a generated,
// seeded vllm/ci-like pipeline, and the ground truth a correct scan of it must report.

export { startSimulator } from './server.ts';
export type { Simulator } from './server.ts';
export type { FailureMode, Faults, RequestKind, SimulatorOptions, SimulatorStats } from './options.ts';
export { MATERIALIZED_JOBS_MAX } from './dataset.ts';
export type { Dataset } from './dataset.ts';
export type { SimAgent, SimBuild, SimJob, SimPipeline, SimPullRequest } from './api-objects.ts';
export { expectedCounts, expectedMatches } from './ground-truth.ts';
export type { ExpectedCounts, ExpectedMatch, GroundTruthQuery } from './ground-truth.ts';
export { expectedBaselineCounts, expectedFlakes } from './expected-flakes.ts';
export type { ExpectedBaselineCounts, ExpectedFlake, ExpectedVerdict, FlakeQuery } from './expected-flakes.ts';
export { BUILTIN_PATTERNS, FLAKE_KINDS, SIGNATURES, SPEC_PATTERNS, VERDICT_SCENARIOS } from './signatures.ts';
export type { FlakeKind, SignatureId, VerdictScenarioId } from './signatures.ts';
export { DECOY_STEP_LABEL, SCENARIO_QUERY, SCENARIO_WINDOW } from './scenarios.ts';
export { V1_OTHERS_LABELS, VLLM_GROUPS } from './steps.ts';
export type { StepGroup } from './steps.ts';
export { LONG_LINE_SIGNATURE } from './big-log.ts';
