// Generates one job's log the way a Buildkite agent writes it, together with the clean lines a
// correct cleaner must recover. Both come from the same construction (raw bytes and clean text are
// written side by side), so the clean lines are known without running any cleaner. Big logs wrap
// filler around the head and tail rendered here (big-log.ts).
//
// What a raw log holds (docs/buildkite-api.md, "Log text format"):
// - every line starts with an APC timestamp `ESC _bk;t=<ms> BEL`; a few end with `ESC \` instead
//   of BEL, a few use the delta form `bk;dt=`, and some markers sit in the middle of a word;
// - ANSI SGR colours, an occasional OSC 1339 link, `\r\n` line ends (a few bare `\n`);
// - progress bars redrawn with bare `\r`, which a cleaner splits into separate lines;
// - group headers `--- `, `~~~ `, `+++ `, `^^^ +++`;
// - in a few logs, invalid UTF-8 and NUL bytes: their clean text is what WHATWG TextDecoder
//   (UTF-8, non-fatal) yields, i.e. U+FFFD per maximal invalid subsequence, NUL kept as U+0000.

import { mixSeed, Rng } from './prng.ts';
import { SIGNATURES, VERDICT_SCENARIOS, type FlakeKind, type VerdictScenarioId } from './signatures.ts';

export interface LogSpec {
  readonly seed: number;
  /** `missing` answers 404 (expired); `big` streams about `bigBytes` bytes. */
  readonly kind: 'text' | 'empty' | 'missing' | 'big';
  readonly lines: number;
  readonly startMs: number;
  readonly label: string;
  readonly outcome: 'passed' | 'failed' | 'lost' | 'running' | 'canceled' | 'timed_out';
  readonly flakes: readonly FlakeKind[];
  /** Verdict scenarios whose failure this attempt prints (scenarios.ts), after the flakes. */
  readonly scenarios: readonly VerdictScenarioId[];
  /** Print torch's pynvml FutureWarning at test collection (the noise scenario's text). */
  readonly pynvmlWarning: boolean;
  /** Plant a few lines with invalid UTF-8 and NUL bytes. */
  readonly oddBytes: boolean;
  readonly bigBytes: number;
  /** A big log whose filler is one line without a break (see LONG_LINE_SIGNATURE). */
  readonly singleLine?: boolean;
}

/** A log rendered in memory: small logs only (big logs render head and tail this way). */
export interface RenderedLog {
  readonly bytes: Buffer;
  readonly clean: readonly string[];
  readonly headerTimes: readonly number[];
}

/** A piece of a line: plain text is the same raw and clean; escapes are raw only. */
type Seg = string | { readonly raw: string | Buffer; readonly clean: string };

export const ESC = '\x1b';

function sgr(code: string, text: string): Seg {
  return { raw: `${ESC}[${code}m${text}${ESC}[0m`, clean: text };
}

function osc(url: string): Seg {
  // A link without `content` shows its URL (docs/buildkite-api.md, "Log text format").
  return { raw: `${ESC}]1339;url=${url}\x07`, clean: url };
}

class LogWriter {
  private parts: Buffer[] = [];
  private raw = '';
  private clean: string[] = [];
  private headerTimes: number[] = [];
  private lastStamp: number;

  constructor(
    readonly rng: Rng,
    public t: number,
  ) {
    this.lastStamp = t;
  }

  /** A timestamp marker for the current time; mostly BEL-terminated, as the agent writes them. */
  marker(): string {
    const roll = this.rng.next();
    if (roll < 0.05) return `${ESC}_bk;t=${this.t}${ESC}\\`;
    if (roll < 0.08) return `${ESC}_bk;dt=${this.t - this.lastStamp}\x07`;
    return `${ESC}_bk;t=${this.t}\x07`;
  }

  /** A marker in the middle of the text: invisible after cleaning, fatal to a naive grep. */
  midMarker(): Seg {
    return { raw: this.marker(), clean: '' };
  }

  line(...segs: readonly Seg[]): void {
    this.raw += this.marker();
    let clean = '';
    for (const seg of segs) {
      if (typeof seg === 'string') {
        this.raw += seg;
        clean += seg;
      } else {
        if (typeof seg.raw === 'string') this.raw += seg.raw;
        else {
          this.flush();
          this.parts.push(seg.raw);
        }
        clean += seg.clean;
      }
    }
    this.raw += this.rng.chance(0.02) ? '\n' : '\r\n';
    this.clean.push(clean);
    this.tick();
  }

  /** Raw text is gathered as a string and turned into bytes in one go (much cheaper per line). */
  private flush(): void {
    if (this.raw !== '') this.parts.push(Buffer.from(this.raw));
    this.raw = '';
  }

  header(prefix: '--- ' | '~~~ ' | '+++ ', text: string): void {
    this.headerTimes.push(this.t);
    this.line(prefix + text);
  }

  /** One line redrawn in place: frames separated by bare `\r`, each a clean line of its own. */
  progress(frames: readonly string[]): void {
    this.raw += `${this.marker()}${frames.join('\r')}\r\n`;
    this.clean.push(...frames);
    this.tick();
  }

  private tick(): void {
    this.lastStamp = this.t;
    this.t += this.rng.int(0, 1500);
  }

  /** Takes what was written so far. */
  take(): RenderedLog {
    this.flush();
    const out = { bytes: Buffer.concat(this.parts), clean: this.clean, headerTimes: this.headerTimes };
    this.parts = [];
    this.clean = [];
    this.headerTimes = [];
    return out;
  }
}

/** How one planted signature line is disguised in the raw bytes; clean text is the same. */
type Disguise = 'plain' | 'colour' | 'marker' | 'both';

function disguise(w: LogWriter, text: string, how: Disguise): Seg[] {
  const space = text.indexOf(' ');
  const head = space > 0 ? text.slice(0, space) : text;
  const rest = space > 0 ? text.slice(space) : '';
  const split = (s: string): Seg[] => {
    if (s.length < 4) return [s];
    const k = w.rng.int(2, s.length - 2);
    return [s.slice(0, k), w.midMarker(), s.slice(k)];
  };
  switch (how) {
    case 'plain':
      return [text];
    case 'colour':
      return [sgr('31', head), sgr('1', rest)];
    case 'marker':
      return split(text);
    case 'both':
      return [sgr('1;31', head), ...split(rest)];
  }
}

const DISGUISES: readonly Disguise[] = ['plain', 'colour', 'marker', 'both'];

const V1_TESTS = [
  'v1/core/test_scheduler.py',
  'v1/core/test_prefix_caching.py',
  'v1/test_serial_utils.py',
  'v1/sample/test_logprobs.py',
  'v1/structured_output/test_utils.py',
  'v1/kv_connector/unit/test_nixl_connector.py',
  'v1/kv_connector/unit/test_multi_connector.py',
  'v1/engine/test_output_processor.py',
  'v1/test_utils.py',
];
const OTHER_TESTS = [
  'kernels/attention/test_flash_attn.py',
  'kernels/moe/test_moe.py',
  'basic_correctness/test_basic_correctness.py',
  'entrypoints/openai/test_chat.py',
  'models/language/generation/test_common.py',
  'lora/test_layers.py',
  'distributed/test_pipeline_parallel.py',
  'samplers/test_sampler.py',
  'quantization/test_fp8.py',
  'compile/test_full_graph.py',
  'spec_decode/test_ngram.py',
  'multimodal/test_processing.py',
];
const TEST_WORDS = [
  'basic',
  'prefill',
  'decode',
  'chunked',
  'prefix',
  'cache',
  'batch',
  'async',
  'stream',
  'logprobs',
  'spec',
  'eagle',
  'fp8',
  'tp2',
  'cuda_graph',
  'eviction',
  'preempt',
];
const ENGINE_FILES = ['core.py', 'llm_engine.py', 'gpu_model_runner.py', 'kv_cache_utils.py'];
const ENGINE_MESSAGES = [
  'Initializing a V1 LLM engine',
  'Loading model weights took 0.23 GiB',
  'GPU KV cache size: 1,234,560 tokens',
  'Graph capturing finished in 12 secs',
];
const MODELS = [
  'facebook/opt-125m',
  'meta-llama/Llama-3.2-1B-Instruct',
  'Qwen/Qwen3-0.6B',
  'google/gemma-3-1b-it',
  'microsoft/Phi-3.5-mini-instruct',
];

export function fmtClock(ms: number): string {
  const d = new Date(ms);
  const p = (n: number): string => String(n).padStart(2, '0');
  const date = `${p(d.getUTCMonth() + 1)}-${p(d.getUTCDate())}`;
  return `${date} ${p(d.getUTCHours())}:${p(d.getUTCMinutes())}:${p(d.getUTCSeconds())}`;
}

function writePreamble(w: LogWriter, spec: LogSpec): void {
  const { rng } = w;
  w.header('~~~ ', 'Running global environment hook');
  w.line('$ /buildkite/hooks/environment');
  w.line(`Host: ${rng.pick(['gpu-l4', 'gpu-h100', 'gpu-a100', 'cpu'])}-${rng.int(1, 64)}-${rng.hex(6)}`);
  w.header('~~~ ', 'Preparing working directory');
  w.line(`# Creating "/var/lib/buildkite-agent/builds/${rng.hex(8)}/vllm/ci"`);
  w.line('$ git clone -v -- https://github.com/vllm-project/vllm.git .');
  w.line("Cloning into '.'...");
  const total = rng.int(200_000, 400_000);
  w.progress([
    `Receiving objects:   5% (${Math.floor(total * 0.05)}/${total})`,
    `Receiving objects:  50% (${Math.floor(total / 2)}/${total})`,
    `Receiving objects: 100% (${total}/${total}), 312.45 MiB | 61.20 MiB/s, done.`,
  ]);
  w.progress(['  5%', ' 50%', '100%']);
  w.line(`$ git checkout -f ${rng.hex(40)}`);
  w.header('~~~ ', 'Running plugin docker command hook');
  w.line(sgr('90', `$ docker pull public.ecr.aws/q9t5s3a7/vllm-ci-test-repo:${rng.hex(40)}`));
  for (let i = 0; i < rng.int(2, 5); i++) w.line(`${rng.hex(12)}: Pull complete`);
  w.line({ raw: Buffer.from('Digest: sha256:'), clean: 'Digest: sha256:' }, rng.hex(64));
  w.line('Installing dependencies ', sgr('32', '━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━'), ' 100% 0:00:00');
  w.header('--- ', `:pytest: ${spec.label.replace(/^:[a-z0-9_+-]+: /, '')}`);
  w.header('+++ ', ':pytest: Running tests');
}

function writeTests(w: LogWriter, spec: LogSpec, count: number): void {
  const { rng } = w;
  const files = /v1 test/i.test(spec.label) ? V1_TESTS : OTHER_TESTS;
  const file = rng.pick(files);
  w.line(`$ pytest -v -s ${file.split('/')[0]}`);
  w.line(sgr('1', '============================= test session starts =============================='));
  w.line('platform linux -- Python 3.12.11, pytest-8.3.5, pluggy-1.5.0 -- /usr/bin/python3');
  if (spec.pynvmlWarning) {
    w.line(
      `/usr/local/lib/python3.12/dist-packages/torch/cuda/__init__.py:63: ${VERDICT_SCENARIOS.noise.text} ` +
        'If you did not install pynvml directly, please report this to the maintainers of the package ' +
        'that installed pynvml for you.',
    );
    w.line('  import pynvml  # type: ignore[import]');
  }
  w.line(`collected ${count * 2} items`);
  w.line('');
  for (let i = 0; i < count; i++) {
    const roll = rng.next();
    const pct = String(Math.floor(((i + 1) * 100) / Math.max(count, 1))).padStart(3);
    if (roll < 0.12) {
      // Drawn in this order: file, line, message, model.
      const source = `${rng.pick(ENGINE_FILES)}:${rng.int(50, 1500)}`;
      const message = rng.pick(ENGINE_MESSAGES);
      w.line(`INFO ${fmtClock(w.t)} [${source}] ${message} (model=${rng.pick(MODELS)})`);
    } else if (roll < 0.16) {
      w.line(
        sgr(
          '33',
          `WARNING ${fmtClock(w.t)} [config.py:${rng.int(100, 4000)}] Casting torch.bfloat16 to torch.float16.`,
        ),
      );
    } else if (roll < 0.18) {
      w.line('Uploading artifact ', osc(`artifact://coverage/${rng.hex(8)}.xml`), `coverage-${rng.hex(6)}.xml`);
    } else if (roll < 0.2) {
      w.line(
        `(EngineCore_0 pid=${rng.int(100, 9999)}) `,
        sgr('36', 'DEBUG'),
        ` ${fmtClock(w.t)} step ${rng.int(1, 99999)}`,
      );
    } else {
      const name = `test_${rng.pick(TEST_WORDS)}_${rng.pick(TEST_WORDS)}`;
      const param = rng.chance(0.4) ? `[${rng.pick(MODELS)}-${rng.int(1, 8)}]` : '';
      const verdict = rng.chance(0.05) ? sgr('33', 'SKIPPED') : sgr('32', 'PASSED');
      w.line(`${rng.pick(files)}::${name}${param} `, verdict, `   [${pct}%]`);
    }
  }
}

function writeOddBytes(w: LogWriter): void {
  const decoder = new TextDecoder('utf-8');
  const samples = [
    Buffer.concat([Buffer.from('Binary output: '), Buffer.from([0xff, 0xfe, 0x00, 0x41]), Buffer.from(' end')]),
    Buffer.concat([Buffer.from('Truncated box drawing: '), Buffer.from([0xe2, 0x94]), Buffer.from(' <- cut')]),
    Buffer.concat([Buffer.from('nul\x00in\x00line and latin-1 caf'), Buffer.from([0xe9])]),
  ];
  // Control characters (NUL among them) are not text: cleaning removes them.
  for (const bytes of samples)
    w.line({ raw: bytes, clean: decoder.decode(bytes).replace(/[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]/g, '') });
}

function writeFlake(w: LogWriter, kind: FlakeKind): void {
  const { rng } = w;
  const how = (): Disguise => rng.pick(DISGUISES);
  const pid = `(EngineCore_0 pid=${rng.int(100, 9999)}) `;
  switch (kind) {
    case 'kvConnector':
      w.line(sgr('31', '___________________ test_multi_shared_storage_connector_consistency ___________________'));
      w.line('');
      w.line('    def test_multi_shared_storage_connector_consistency():');
      w.line(
        `${pid}DEBUG ${fmtClock(w.t)} [multi_connector.py:201] storage1 events: ['`,
        ...disguise(w, SIGNATURES.kvTokens, how()),
        `', 'update_state_after_alloc num_blocks=[6] 96']`,
      );
      w.line(
        ">       assert events['storage1'][:3] == ['get_num_new_matched_tokens 0', 'update_state_after_alloc', 'build_connector_meta']",
      );
      w.line(
        sgr('1;31', "E       AssertionError: assert ['get_num_new...ens 96', ...] == ['get_num_new...nector_meta']"),
      );
      w.line('E         ');
      w.line('E   ', ...disguise(w, SIGNATURES.kvIndexDiff, how()));
      w.line('');
      w.line(sgr('31', 'v1/kv_connector/unit/test_multi_connector.py:159: AssertionError'));
      w.line(sgr('1', '=========================== short test summary info ============================'));
      w.line(...disguise(w, SIGNATURES.kvFailed, how()));
      return;
    case 'cudaIllegalAccess':
      w.line(`${pid}Traceback (most recent call last):`);
      w.line(
        `${pid}  File "/usr/local/lib/python3.12/dist-packages/vllm/v1/engine/core.py", line 701, in run_engine_core`,
      );
      w.line(`${pid}    engine_core.run_busy_loop()`);
      w.line(pid, ...disguise(w, SIGNATURES.cudaIllegalAccess, how()));
      w.line(
        `${pid}CUDA kernel errors might be asynchronously reported at some other API call, so the stacktrace below might be incorrect.`,
      );
      w.line(`${pid}For debugging consider passing CUDA_LAUNCH_BLOCKING=1`);
      return;
    case 'cudaOutOfMemory':
      w.line('Traceback (most recent call last):');
      w.line(
        '  File "/usr/local/lib/python3.12/dist-packages/torch/nn/modules/module.py", line 1773, in _wrapped_call_impl',
      );
      w.line(
        ...disguise(w, SIGNATURES.cudaOutOfMemory, how()),
        `. Tried to allocate 2.00 GiB. GPU 0 has a total capacity of 22.05 GiB of which ${rng.int(10, 99) / 100} GiB is free.`,
      );
      return;
    case 'connectionReset':
      w.line('Traceback (most recent call last):');
      w.line('  File "/usr/lib/python3.12/asyncio/selector_events.py", line 1002, in _read_ready__data_received');
      w.line('    data = self._sock.recv(self.max_size)');
      w.line(...disguise(w, SIGNATURES.connectionReset, how()));
      return;
    case 'hfReadTimeout':
      w.line(sgr('33', `WARNING ${fmtClock(w.t)} [hub.py:88] Retrying download of ${rng.pick(MODELS)}`));
      w.line(...disguise(w, SIGNATURES.hfReadTimeout, how()), ' (read timeout=10)');
      return;
  }
}

/**
 * A pytest failure ending in the scenario's `FAILED <test> - <error>` summary line, the only
 * line holding the whole text; disguised like the flakes.
 */
function writeScenarioFailure(w: LogWriter, id: VerdictScenarioId): void {
  const text = VERDICT_SCENARIOS[id].text;
  const [where = '', error = ''] = text.replace(/^FAILED /, '').split(' - ');
  const [file = '', test = ''] = where.split('::');
  w.line(sgr('31', `___________________ ${test} ___________________`));
  w.line('');
  w.line(sgr('1;31', `E       ${error}`));
  w.line('');
  w.line(sgr('31', `${file}:${w.rng.int(40, 400)}: ${error.split(':')[0]}`));
  w.line(sgr('1', '=========================== short test summary info ============================'));
  w.line(...disguise(w, text, w.rng.pick(DISGUISES)));
}

function writeEnding(w: LogWriter, spec: LogSpec): void {
  const { rng } = w;
  const passed = rng.int(20, 400);
  const seconds = rng.int(60, 3000);
  // `counts` is drawn before the fraction of a second, as the line reads.
  const summary = (counts: string): string => `======= ${counts} warnings in ${seconds}.${rng.int(10, 99)}s =======`;
  switch (spec.outcome) {
    case 'passed':
      w.line(sgr('32', summary(`${passed} passed, ${rng.int(0, 9)} skipped, ${rng.int(0, 40)}`)));
      return;
    case 'failed':
    case 'timed_out':
      w.line(sgr('31', summary(`${rng.int(1, 3)} failed, ${passed} passed, ${rng.int(0, 40)}`)));
      if (spec.outcome === 'timed_out') w.line(sgr('31', '# Job timed out after 180 minutes'));
      w.line('^^^ +++');
      w.line(sgr('31', '🚨 Error: The command exited with status 1'));
      w.line('user command error: exit status 1');
      return;
    case 'canceled':
      w.line('# Received cancellation signal, interrupting');
      return;
    case 'lost':
    case 'running':
      return; // the log simply stops
  }
}

/** Renders the part before the filler (all of a normal log) and the part after it (big logs). */
export function renderParts(spec: LogSpec): { head: RenderedLog; tail: RenderedLog } {
  const w = new LogWriter(new Rng(mixSeed(spec.seed, 1)), spec.startMs);
  writePreamble(w, spec);
  const fixed = 30 + (spec.flakes.length + spec.scenarios.length) * 10;
  writeTests(w, spec, Math.max(3, spec.lines - fixed));
  if (spec.oddBytes) writeOddBytes(w);
  const head = w.take();
  if (spec.kind === 'big') w.t += 3_600_000;
  for (const kind of spec.flakes) writeFlake(w, kind);
  for (const id of spec.scenarios) writeScenarioFailure(w, id);
  writeEnding(w, spec);
  return { head, tail: w.take() };
}

const EMPTY: RenderedLog = { bytes: Buffer.alloc(0), clean: [], headerTimes: [] };

/** A whole small log. Big logs never go through here. */
export function renderLog(spec: LogSpec): RenderedLog {
  if (spec.kind === 'empty' || spec.kind === 'missing') return EMPTY;
  if (spec.kind === 'big') throw new Error('renderLog: big logs are streamed, not rendered');
  const { head, tail } = renderParts(spec);
  return {
    bytes: Buffer.concat([head.bytes, tail.bytes]),
    clean: [...head.clean, ...tail.clean],
    headerTimes: [...head.headerTimes, ...tail.headerTimes],
  };
}
