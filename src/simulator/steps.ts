// Step labels shaped like vllm/ci's pipeline: emoji shortcodes, varying case, `%N` in parallel
// steps. Labels change often in vLLM, so the "V1 Test others" step is spelled several ways.

export interface StepDef {
  readonly label: string;
  /** Parallel steps run this many jobs (`parallel_group_total`). */
  readonly parallel?: [number, number];
  /** Optional steps sit behind a block job `Run <label>` on PR builds. */
  readonly optional: boolean;
  readonly gpu: boolean;
}

/** Spellings of the step a default scan selects (`v1 Test others`); all contain it case-insensitively. */
export const V1_OTHERS_LABELS: readonly string[] = [
  ':nvidia: V1 Test others',
  'V1 Test others (CPU)',
  ':nvidia: v1 test others',
  ':nvidia: V1 Test Others (L4)',
  ':amd: AMD: V1 Test others',
];

export const STEPS: readonly StepDef[] = [
  { label: ':nvidia: V1 Test e2e + engine', optional: false, gpu: true },
  { label: ':nvidia: V1 Test entrypoints', optional: false, gpu: true },
  { label: ':nvidia: Entrypoints Integration Test (API Server)', optional: true, gpu: true },
  { label: ':nvidia: Basic Correctness Test', optional: false, gpu: true },
  { label: ':nvidia: Basic Models Test', optional: true, gpu: true },
  { label: ':nvidia: (L4) Attention Kernels Shard %N', parallel: [2, 4], optional: true, gpu: true },
  { label: ':nvidia: Kernels MoE Test %N', parallel: [2, 2], optional: true, gpu: true },
  { label: ':nvidia: LoRA Test %N', parallel: [2, 4], optional: true, gpu: true },
  { label: ':nvidia: Distributed Tests (2 GPUs)', optional: true, gpu: true },
  { label: ':nvidia: Distributed Tests (4 GPUs)', optional: true, gpu: true },
  { label: ':nvidia: Language Models Test (Standard)', optional: true, gpu: true },
  { label: ':nvidia: Multi-Modal Models Test (Standard)', optional: true, gpu: true },
  { label: ':nvidia: Quantization Test', optional: true, gpu: true },
  { label: ':nvidia: Samplers Test', optional: true, gpu: true },
  { label: ':nvidia: Async Engine, Inputs, Utils, Worker Test', optional: false, gpu: true },
  { label: ':nvidia: Speculative decoding tests', optional: true, gpu: true },
  { label: ':nvidia: PyTorch Compilation Unit Tests', optional: true, gpu: true },
  { label: ':nvidia: Prefix Caching Test', optional: true, gpu: true },
  { label: ':nvidia: Metrics, Tracing Test', optional: true, gpu: true },
  { label: ':nvidia: Examples Test', optional: true, gpu: true },
  { label: ':nvidia: Regression Test', optional: true, gpu: true },
  { label: ':nvidia: Transformers Nightly Models Test', optional: true, gpu: true },
  { label: ':book: Documentation Build', optional: false, gpu: false },
  { label: ':intel: CPU-Test', optional: true, gpu: false },
  { label: 'Benchmarks', optional: true, gpu: true },
];

/** Every build starts with the image build, as vllm/ci does. */
export const IMAGE_STEP: StepDef = { label: ':docker: build image', optional: false, gpu: false };

/** Block jobs are labelled without the emoji prefix: `Run V1 Test others`. */
export function blockLabel(label: string): string {
  return `Run ${label.replace(/^(:[a-z0-9_+-]+: )+/, '')}`;
}
