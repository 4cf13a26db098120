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

/**
 * A test group of the vLLM-sized shape (SimulatorOptions.shape `vllm`): its steps in pipeline
 * order, whether the AMD pipeline mirrors them (`:amd: AMD: <label>`), and whether they run only
 * in nightly builds (behind a block job elsewhere).
 */
export interface StepGroup {
  readonly name: string;
  readonly steps: readonly StepDef[];
  readonly amd: boolean;
  readonly nightly?: boolean;
}

const nvidia = (name: string, parallel?: [number, number]): StepDef => {
  const known = STEPS.find((s) => s.label === `:nvidia: ${name}`);
  return known ?? { label: `:nvidia: ${name}`, optional: true, gpu: true, ...(parallel ? { parallel } : {}) };
};
const known = (label: string): StepDef => STEPS.find((s) => s.label === label) as StepDef;

/** Where the "V1 Test others" spellings sit in the pipeline's order (they are never added as padding). */
export const V1_OTHERS_SLOT = ':nvidia: V1 Test entrypoints';

/**
 * vllm/ci's 37 test groups, shaped after its test areas: STEPS plus the steps a full build runs
 * besides them. With shards, AMD mirrors, block jobs, waiters and retried attempts a full build
 * comes to about 266 jobs (docs/buildkite-api.md, "vllm/ci in numbers").
 */
export const VLLM_GROUPS: readonly StepGroup[] = [
  {
    name: 'Basic Correctness',
    amd: true,
    steps: [nvidia('Basic Correctness Test'), nvidia('Basic Correctness Test (2 GPUs)')],
  },
  {
    name: 'Core',
    amd: true,
    steps: [
      nvidia('Core Test'),
      nvidia('Async Engine, Inputs, Utils, Worker Test'),
      nvidia('Python-only Installation Test'),
    ],
  },
  {
    name: 'Engine',
    amd: true,
    steps: [
      nvidia('Engine Test'),
      nvidia('V1 Test e2e + engine'),
      nvidia('V1 Test entrypoints'),
      nvidia('V1 Test attention %N', [3, 3]),
    ],
  },
  {
    name: 'Entrypoints',
    amd: true,
    steps: [
      nvidia('Entrypoints Test (LLM) %N', [3, 3]),
      nvidia('Entrypoints Integration Test (API Server)'),
      nvidia('Entrypoints Integration Test (Responses API)'),
      nvidia('Entrypoints Integration Test (Pooling)'),
      nvidia('OpenAI API correctness'),
    ],
  },
  {
    name: 'Distributed',
    amd: true,
    steps: [
      nvidia('Distributed Tests (2 GPUs)'),
      nvidia('Distributed Tests (4 GPUs)'),
      nvidia('Distributed Comm Ops Test'),
      nvidia('Pipeline Parallelism Test'),
      nvidia('2 Node Tests (4 GPUs in total)'),
    ],
  },
  {
    name: 'Distributed (A100, H100)',
    amd: false,
    nightly: true,
    steps: [
      nvidia('Distributed Tests (A100)'),
      nvidia('Distributed Tests (H100)'),
      nvidia('LM Eval Large Models (4 GPUs)'),
    ],
  },
  {
    name: 'Attention',
    amd: true,
    steps: [
      nvidia('(L4) Attention Kernels Shard %N'),
      nvidia('Attention Backends Test %N', [6, 6]),
      nvidia('FlashInfer Test'),
    ],
  },
  {
    name: 'Kernels Core',
    amd: true,
    steps: [nvidia('Kernels Core Operation Test'), nvidia('Kernels Mamba Test'), nvidia('Kernels Helion Test')],
  },
  {
    name: 'Kernels Quantization',
    amd: true,
    steps: [nvidia('Kernels Quantization Test %N', [6, 6]), nvidia('Kernels FP8 Test')],
  },
  { name: 'Kernels MoE', amd: true, steps: [nvidia('Kernels MoE Test %N'), nvidia('Kernels MoE EP Test %N', [4, 4])] },
  { name: 'LoRA', amd: true, steps: [nvidia('LoRA Test %N'), nvidia('LoRA TP Test (Distributed)')] },
  {
    name: 'Language Models',
    amd: true,
    steps: [
      nvidia('Language Models Test (Standard)'),
      nvidia('Language Models Test (Hybrid) %N', [3, 3]),
      nvidia('Language Models Test (Extended Generation) %N', [6, 6]),
      nvidia('Language Models Test (Extended Pooling)'),
      nvidia('Language Models Test (MTEB)'),
    ],
  },
  {
    name: 'Multi-Modal',
    amd: true,
    steps: [
      nvidia('Multi-Modal Models Test (Standard)'),
      nvidia('Multi-Modal Processor Test %N', [3, 3]),
      nvidia('Multi-Modal Models Test (Extended) %N', [6, 6]),
      nvidia('Multi-Modal Accuracy Eval (Small Models)'),
    ],
  },
  {
    name: 'Models',
    amd: true,
    steps: [
      nvidia('Basic Models Test'),
      nvidia('Transformers Nightly Models Test'),
      nvidia('Model Executor Test'),
      nvidia('Models Initialization Test %N', [8, 8]),
    ],
  },
  {
    name: 'Quantization',
    amd: true,
    steps: [nvidia('Quantization Test'), nvidia('Quantized Models Test'), nvidia('LM Eval Small Models')],
  },
  { name: 'Samplers', amd: true, steps: [nvidia('Samplers Test'), nvidia('Structured Output Test')] },
  {
    name: 'Speculative Decoding',
    amd: true,
    steps: [nvidia('Speculative decoding tests'), nvidia('V1 Spec Decode Test %N', [3, 3])],
  },
  {
    name: 'Compilation',
    amd: true,
    steps: [
      nvidia('PyTorch Compilation Unit Tests'),
      nvidia('PyTorch Fullgraph Smoke Test'),
      nvidia('PyTorch Fullgraph Test %N', [3, 3]),
    ],
  },
  { name: 'Prefix Caching', amd: true, steps: [nvidia('Prefix Caching Test'), nvidia('KV Cache Offloading Test')] },
  { name: 'Observability', amd: true, steps: [nvidia('Metrics, Tracing Test')] },
  { name: 'Examples', amd: true, steps: [nvidia('Examples Test')] },
  { name: 'Regression', amd: true, steps: [nvidia('Regression Test')] },
  { name: 'Documentation', amd: false, steps: [known(':book: Documentation Build')] },
  {
    name: 'CPU',
    amd: false,
    steps: [known(':intel: CPU-Test'), { label: ':intel: CPU-Test (Distributed)', optional: true, gpu: false }],
  },
  {
    name: 'Benchmarks',
    amd: true,
    steps: [known('Benchmarks'), { label: 'Benchmarks CLI Test', optional: true, gpu: true }],
  },
  { name: 'Weight Loading', amd: true, steps: [nvidia('Weight Loading Multiple GPU Test'), nvidia('Tensorizer Test')] },
  { name: 'Plugins', amd: true, steps: [nvidia('Plugin Tests (2 GPUs)')] },
  { name: 'Tool Use', amd: true, steps: [nvidia('OpenAI-Compatible Tool Use')] },
  { name: 'Encoder Decoder', amd: true, steps: [nvidia('Encoder Decoder tests')] },
  { name: 'EPLB', amd: true, steps: [nvidia('EPLB Algorithm Test'), nvidia('EPLB Execution Test')] },
  { name: 'Platform', amd: false, steps: [nvidia('Platform Tests (CUDA)')] },
  {
    name: 'KV Connectors',
    amd: true,
    steps: [nvidia('KV Connector Tests (NixlConnector)'), nvidia('KV Connector Tests (Multi-connector)')],
  },
  {
    name: 'Blackwell',
    amd: false,
    nightly: true,
    steps: [nvidia('Blackwell Test'), nvidia('Blackwell Fusion Tests')],
  },
  { name: 'GPT-OSS', amd: false, nightly: true, steps: [nvidia('GPT-OSS Eval (H100)')] },
  { name: 'Batch Invariance', amd: false, steps: [nvidia('Batch Invariance Tests (H100)')] },
  { name: 'Ray', amd: true, steps: [nvidia('Ray Compiled Graph Tests (2 GPUs)')] },
  { name: 'Utils', amd: true, steps: [nvidia('Utils Test'), nvidia('Tokenization Test')] },
];

/** The AMD pipeline's copy of a step: `:amd: AMD: <label without its emoji>`. */
export function amdMirror(step: StepDef): StepDef {
  return { ...step, label: `:amd: AMD: ${step.label.replace(/^(:[a-z0-9_+-]+: )+/, '')}` };
}

/** The AMD image build, before the AMD mirrors as the NVIDIA one is before the rest. */
export const AMD_IMAGE_STEP: StepDef = { label: ':amd: AMD: :docker: build image', optional: false, gpu: false };
