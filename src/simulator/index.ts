// The Buildkite simulator: a loopback stand-in for Buildkite's REST API v2 with a generated,
// seeded vllm/ci-like pipeline, and the ground truth a correct scan of it must report.

export { startSimulator } from './server.ts';
export type { Simulator } from './server.ts';
export type { FailureMode, Faults, RequestKind, SimulatorOptions, SimulatorStats } from './options.ts';
export type { Dataset } from './dataset.ts';
export type { SimAgent, SimBuild, SimJob, SimPipeline, SimPullRequest } from './api-objects.ts';
export { expectedCounts, expectedMatches } from './ground-truth.ts';
export type { ExpectedCounts, ExpectedMatch, GroundTruthQuery } from './ground-truth.ts';
export { BUILTIN_PATTERNS, FLAKE_KINDS, SIGNATURES, SPEC_PATTERNS } from './signatures.ts';
export type { FlakeKind, SignatureId } from './signatures.ts';
export { V1_OTHERS_LABELS } from './steps.ts';
export { LONG_LINE_SIGNATURE } from './big-log.ts';
