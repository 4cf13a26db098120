// The Buildkite simulator: a loopback stand-in for Buildkite's REST API v2 with a generated,
// seeded vllm/ci-like pipeline, and the ground truth a correct scan of it must report.

export { startSimulator } from './server.ts';
export type { FailureMode, Faults, RequestKind, Simulator, SimulatorOptions, SimulatorStats } from './server.ts';
export type { Dataset, SimAgent, SimBuild, SimJob, SimPullRequest } from './dataset.ts';
export { expectedCounts, expectedMatches } from './ground-truth.ts';
export type { ExpectedCounts, ExpectedMatch, GroundTruthQuery } from './ground-truth.ts';
export { FLAKE_KINDS, SIGNATURES, SPEC_PATTERNS } from './signatures.ts';
export type { FlakeKind, SignatureId } from './signatures.ts';
export { V1_OTHERS_LABELS } from './steps.ts';
export { LONG_LINE_SIGNATURE } from './log-text.ts';
