// Discovery's extractor: the failures each fixture log holds, the near-misses it must not take,
// its limits, and the pre-filter a scanner relies on to skip lines and blocks.

import { describe, expect, it } from 'vitest';
import {
  DISCOVER_NEEDLES,
  FailureExtractor,
  MAX_SIGNATURES,
  MAX_STREAMS,
  MAX_TRACEBACK_LINES,
  mayStart,
  type Failure,
} from '../../../src/core/discover/extract.ts';
import { INFRA_RULES } from '../../../src/core/discover/infra.ts';
import { parseLine } from '../../../src/core/discover/parse-line.ts';
import { LINE_PREFIXES, splitPrefix } from '../../../src/core/discover/prefixes.ts';
import { SIGNATURE_RULES } from '../../../src/core/discover/signature.ts';
import { extract, FIXTURES, fixtureLines, type FixtureName } from './fixtures.ts';

type Expected = Pick<Failure, 'line' | 'count' | 'kind' | 'testId' | 'exception' | 'signature'>;

const FREE_MEMORY =
  'exception ValueError: Free memory on device (<n>.<n>/<n>.<n> GiB) on startup is less than ' +
  'desired GPU memory utilization (<n>.<n>, <n>.<n> GiB).';
const BIND =
  "exception OSError: [Errno <n>] error while attempting to bind on address ('<n>.<n>.<n>.<n>', <n>): " +
  'address already in use';
const ABORT = 'v1/engine/test_llm_engine.py::test_abort[facebook/opt-125m-True-8]';
const STOP = 'v1/engine/test_output_processor.py::test_stop_string[prompt0-0.5]';
const CORE = 'v1/engine/test_engine_core.py::test_engine_core_tp';
const STREAMING = 'v1/entrypoints/test_completion.py::test_streaming[opt-125m]';
const LOAD = 'v1/engine/test_async_llm.py::test_load[float16]';

/** The same job in two builds: the same failures; build b prints its summary twice (a retry). */
function summaryFailures(
  lines: readonly [number, number, number, number, number, number, number],
  repeat: number,
): Expected[] {
  const [freeMemory, bind, abort, stop, core, streaming, load] = lines;
  return [
    {
      line: freeMemory,
      count: repeat === 1 ? 2 : 3,
      kind: 'exception',
      testId: null,
      exception: 'ValueError',
      signature: FREE_MEMORY,
    },
    { line: bind, count: 1, kind: 'exception', testId: STREAMING, exception: 'OSError', signature: BIND },
    {
      line: abort,
      count: repeat,
      kind: 'pytest-failed',
      testId: ABORT,
      exception: 'AssertionError',
      signature: `pytest-failed ${ABORT} AssertionError`,
    },
    {
      line: stop,
      count: repeat,
      kind: 'pytest-failed',
      testId: STOP,
      exception: 'AssertionError',
      signature: `pytest-failed ${STOP} AssertionError`,
    },
    {
      line: core,
      count: repeat,
      kind: 'pytest-failed',
      testId: CORE,
      exception: 'RuntimeError',
      signature: `pytest-failed ${CORE} RuntimeError`,
    },
    {
      line: streaming,
      count: repeat,
      kind: 'pytest-failed',
      testId: STREAMING,
      exception: 'httpx.ConnectError',
      signature: `pytest-failed ${STREAMING} httpx.ConnectError`,
    },
    {
      line: load,
      count: repeat,
      kind: 'pytest-error',
      testId: LOAD,
      exception: 'huggingface_hub.errors.HfHubHTTPError',
      signature: `pytest-error ${LOAD} huggingface_hub.errors.HfHubHTTPError`,
    },
  ];
}

const infra = (line: number, count: number, signature: string, exception: string | null = null): Expected => ({
  line,
  count,
  kind: 'infra',
  testId: null,
  exception,
  signature,
});

const EXPECTED: Record<FixtureName, Expected[]> = {
  'discover-summary-a.log': summaryFailures([30, 90, 106, 107, 108, 109, 110], 1),
  'discover-summary-b.log': summaryFailures([23, 53, 58, 59, 60, 61, 62], 2),
  'discover-engine-wrapper.log': [
    {
      line: 13,
      count: 2,
      kind: 'exception',
      testId: null,
      exception: 'ValueError',
      // Cut at MAX_MESSAGE characters: the message is long, and it keys on its start.
      signature:
        "exception ValueError: To serve at least one request with the model's max seq len (<n>), <n>.<n> GiB of KV " +
        'cache is needed, which is larger than the available KV cache memory (<n>.<n> GiB). ' +
        'Based on the available memory, th',
    },
  ],
  'discover-script-traceback.log': [
    {
      line: 23,
      count: 1,
      kind: 'exception',
      testId: null,
      exception: 'ValueError',
      signature:
        'exception ValueError: checkpoint <tmp>/model-<n>-of-<n>.safetensors ' +
        "has no tensor 'model.layers.15.mlp.gate_proj.weight'",
    },
  ],
  'discover-killed.log': [
    {
      line: 12,
      count: 1,
      kind: 'pytest-failed',
      testId: 'test_chunked_prefill[Qwen/Qwen3-0.6B-512-True]',
      exception: 'AssertionError',
      signature: 'pytest-failed test_chunked_prefill[Qwen/Qwen3-0.6B-512-True] AssertionError (no summary line)',
    },
    {
      line: 22,
      count: 1,
      kind: 'pytest-failed',
      testId: 'TestSpecDecode.test_acceptance_rate[eagle3-4]',
      exception: 'Failed',
      signature: 'pytest-failed TestSpecDecode.test_acceptance_rate[eagle3-4] Failed (no summary line)',
    },
    {
      line: 31,
      count: 1,
      kind: 'pytest-failed',
      testId: 'test_cuda_graph_capture[7]',
      exception: null,
      signature: 'pytest-failed test_cuda_graph_capture[7] (no summary line)',
    },
    infra(37, 1, 'infra Killed'),
    infra(38, 2, 'infra exit status 137'),
  ],
  'discover-infra-a.log': [
    infra(8, 1, 'infra CUDA out of memory', 'torch.OutOfMemoryError'),
    infra(9, 2, 'infra NCCL watchdog timeout: OpType=ALLREDUCE'),
    infra(16, 2, 'infra pytest-timeout'),
  ],
  'discover-infra-b.log': [
    infra(5, 1, 'infra CUDA out of memory', 'torch.OutOfMemoryError'),
    infra(6, 1, 'infra NCCL watchdog timeout: OpType=ALLREDUCE'),
    infra(10, 1, 'infra Hugging Face hub timed out', 'requests.exceptions.ReadTimeout'),
    infra(14, 1, 'infra Connection reset by peer', 'ConnectionResetError'),
    infra(17, 1, 'infra No space left on device', 'OSError'),
    infra(19, 1, 'infra CUDA error: an illegal memory access was encountered'),
    infra(23, 1, 'infra Job timed out'),
  ],
  'discover-near-misses.log': [],
};

const strip = ({ line, count, kind, testId, exception, signature }: Failure): Expected => ({
  line,
  count,
  kind,
  testId,
  exception,
  signature,
});

describe('FailureExtractor on the fixtures', () => {
  it.each(FIXTURES)('%s: exactly the failures it holds', (name) => {
    const lines = fixtureLines(name);
    const failures = extract(lines);
    expect(failures.map(strip)).toEqual(EXPECTED[name]);
    // The example is the line as pushed.
    for (const f of failures) expect(f.text).toBe(lines[f.line - 1]);
  });

  it('gives two builds of the same failures the same signatures, whatever varied', () => {
    const a = extract(fixtureLines('discover-summary-a.log'));
    const b = extract(fixtureLines('discover-summary-b.log'));
    expect(b.map((f) => f.signature)).toEqual(a.map((f) => f.signature));
    // ...although the lines differ: pids, sizes, ports, the assertion's values, a duration.
    expect(b.map((f) => f.text)).not.toEqual(a.map((f) => f.text));
    expect(b.map((f) => f.pattern)).toEqual(a.map((f) => f.pattern));
  });

  it('groups CUDA OOMs with other byte counts and NCCL timeouts with other sequence numbers', () => {
    const a = extract(fixtureLines('discover-infra-a.log')).map((f) => f.signature);
    const b = extract(fixtureLines('discover-infra-b.log')).map((f) => f.signature);
    expect(a.filter((s) => b.includes(s))).toEqual([
      'infra CUDA out of memory',
      'infra NCCL watchdog timeout: OpType=ALLREDUCE',
    ]);
  });
});

describe('the documented rules', () => {
  it.each(SIGNATURE_RULES.map((r) => [r.name, r] as const))('%s', (_name, rule) => {
    expect(extract(rule.before).map((f) => f.signature)).toEqual(rule.after);
  });

  it.each(INFRA_RULES.flatMap((r) => r.examples.map((e) => [r.name, e] as const)))('infra %s: %s', (_name, example) => {
    const failures = extract([example.line]);
    expect(failures.map((f) => f.signature)).toEqual([example.signature]);
    expect(new RegExp(failures[0]!.pattern).test(example.line)).toBe(true);
  });

  it.each(LINE_PREFIXES.map((p) => [p.name, p] as const))('prefix %s', (_name, prefix) => {
    expect(splitPrefix(prefix.before).content).toBe(prefix.after);
  });
});

describe('pytest summary lines', () => {
  const one = (line: string): Failure | undefined => extract([line])[0];

  it('reads a duration before the id, a bare assert, a cut message and an id without params', () => {
    expect(one('FAILED [1.5s] tests/v1/test_x.py::test_y - assert False')?.signature).toBe(
      'pytest-failed tests/v1/test_x.py::test_y AssertionError',
    );
    expect(one('FAILED tests/v1/test_x.py::test_y - AssertionError: expected 3 got 4...')?.signature).toBe(
      'pytest-failed tests/v1/test_x.py::test_y AssertionError',
    );
    expect(one('FAILED tests/v1/test_x.py::test_y - subprocess.CalledProcess...')?.signature).toBe(
      'pytest-failed tests/v1/test_x.py::test_y - subprocess.CalledProcess...',
    );
    expect(one('FAILED tests/v1/test_x.py::test_y')?.signature).toBe('pytest-failed tests/v1/test_x.py::test_y');
  });

  it('keeps parametrize ids with spaces, signs, brackets and ` - ` whole', () => {
    const f = one('FAILED tests/v1/test_gen.py::test_gen[Hello - my name is-[1, 2]--0.5] - ValueError: bad prompt');
    expect(f?.testId).toBe('tests/v1/test_gen.py::test_gen[Hello - my name is-[1, 2]--0.5]');
    expect(f?.exception).toBe('ValueError');
  });

  it('reads collection errors, class-based tests and prefixed lines', () => {
    expect(one("ERROR models/test_flash.py - ModuleNotFoundError: No module named 'flash_attn'")?.signature).toBe(
      'pytest-error models/test_flash.py ModuleNotFoundError',
    );
    expect(
      one('FAILED v1/test_eagle.py::TestSpecDecode::test_rate[eagle3-4] - Failed: Timeout >900.0s')?.signature,
    ).toBe('pytest-failed v1/test_eagle.py::TestSpecDecode::test_rate[eagle3-4] Failed');
    expect(one('[rank0]: FAILED v1/test_pp.py::test_pp[2] - RuntimeError: boom')?.testId).toBe(
      'v1/test_pp.py::test_pp[2]',
    );
  });

  it('tells different failures apart', () => {
    const signatures = new Set(
      [
        'FAILED tests/a.py::test_y - ValueError: x',
        'FAILED tests/a.py::test_y - KeyError: x',
        'FAILED tests/a.py::test_y[1] - ValueError: x',
        'FAILED tests/a.py::test_y[2] - ValueError: x',
        'FAILED tests/b.py::test_y - ValueError: x',
        'ERROR tests/a.py::test_y - ValueError: x',
      ].map((line) => one(line)!.signature),
    );
    expect(signatures.size).toBe(6);
  });

  it.each([
    [
      'a section its summary line names, the class in the header',
      [
        '_____________ TestSpec.test_rate[eagle3-4] _____________',
        'E       assert 0.1 > 0.5',
        '=========================== short test summary info ============================',
        'FAILED v1/test_eagle.py::TestSpec::test_rate[eagle3-4] - assert 0.1 > 0.5',
      ],
      ['pytest-failed v1/test_eagle.py::TestSpec::test_rate[eagle3-4] AssertionError'],
    ],
    [
      'ERROR sections without a summary, keyed on their phase',
      [
        '___________________ ERROR at teardown of test_shutdown ___________________',
        'E   TimeoutError: engine did not stop in 30s',
        '___________________ ERROR collecting v1/test_broken.py ___________________',
        "E   ImportError: cannot import name 'Foo' from 'vllm'",
      ],
      [
        'pytest-error test_shutdown TimeoutError (at teardown, no summary line)',
        'pytest-error v1/test_broken.py ImportError (collecting, no summary line)',
      ],
    ],
  ])('reads %s', (_what, lines, signatures) => {
    expect(extract(lines).map((f) => f.signature)).toEqual(signatures);
  });
});

describe('tracebacks', () => {
  it('follows each stream apart: an exception line of another process does not end a traceback', () => {
    const failures = extract([
      '(EngineCore_0 pid=10) Traceback (most recent call last):',
      '(APIServer pid=20) ValueError: a log line of another process',
      '(EngineCore_0 pid=10)   File "core.py", line 1, in run',
      '(EngineCore_0 pid=10) KeyError: 7',
    ]);
    expect(failures.map((f) => [f.line, f.signature])).toEqual([[4, 'exception KeyError: <n>']]);
  });

  it('takes the last of chained exceptions, joined by either connector', () => {
    const failures = extract([
      'Traceback (most recent call last):',
      "KeyError: 'a'",
      '',
      'During handling of the above exception, another exception occurred:',
      '',
      'Traceback (most recent call last):',
      'TypeError: b',
      '',
      'The above exception was the direct cause of the following exception:',
      'Traceback (most recent call last):',
      'RuntimeError: c',
    ]);
    expect(failures.map((f) => f.signature)).toEqual(['exception RuntimeError: c']);
  });

  it('keeps a wrapper when nothing before it is a cause, and knows EngineDeadError', () => {
    const wrapper =
      "RuntimeError: Engine core initialization failed. See root cause above. Failed core proc(s): {'EngineCore_0': 1}";
    expect(extract(['Traceback (most recent call last):', wrapper]).map((f) => f.signature)).toEqual([
      'exception RuntimeError: Engine core initialization failed. See root cause above. ' +
        "Failed core proc(s): {'EngineCore_0': <n>}",
    ]);
    const dead =
      'vllm.v1.engine.exceptions.EngineDeadError: ' +
      'EngineCore encountered an issue. See stack trace (above) for the root cause.';
    expect(
      extract([
        '(EngineCore_0 pid=3) Traceback (most recent call last):',
        '(EngineCore_0 pid=3) AssertionError: block 17 freed twice',
        'Traceback (most recent call last):',
        dead,
      ]).map((f) => f.signature),
    ).toEqual(['exception AssertionError: block <n> freed twice']);
  });

  it('takes no exception line outside a traceback, but every infrastructure line', () => {
    expect(extract(['ValueError: printed by a test that checks messages'])).toEqual([]);
    expect(extract(['ConnectionResetError: [Errno 104] Connection reset by peer']).map((f) => f.signature)).toEqual([
      'infra Connection reset by peer',
    ]);
  });

  it(`drops a traceback whose exception line has not come ${MAX_TRACEBACK_LINES} lines after it`, () => {
    const x = new FailureExtractor();
    x.push(1, 'Traceback (most recent call last):');
    x.push(2 + MAX_TRACEBACK_LINES, 'ValueError: too far');
    expect(x.end()).toEqual([]);
  });
});

describe('limits', () => {
  it(`keeps the first ${MAX_SIGNATURES} distinct failures and says it truncated`, () => {
    const x = new FailureExtractor();
    for (let i = 1; i <= MAX_SIGNATURES + 5; i++) x.push(i, `FAILED tests/test_many.py::test_${i} - ValueError: no`);
    x.push(MAX_SIGNATURES + 6, 'FAILED tests/test_many.py::test_1 - ValueError: again');
    const failures = x.end();
    expect(failures).toHaveLength(MAX_SIGNATURES);
    expect(x.truncated).toBe(true);
    expect(failures[0]!.count).toBe(2);
  });

  it(`follows at most ${MAX_STREAMS} streams, confirming what it drops`, () => {
    const x = new FailureExtractor();
    let n = 0;
    for (let pid = 0; pid < MAX_STREAMS * 2; pid++) {
      x.push(++n, `(Worker pid=${pid}) Traceback (most recent call last):`);
      x.push(++n, `(Worker pid=${pid}) KeyError: 'w${pid % 3}'`);
    }
    expect(x.end().map((f) => [f.signature, f.count])).toEqual([
      ["exception KeyError: 'w0'", 43],
      ["exception KeyError: 'w1'", 43],
      ["exception KeyError: 'w2'", 42],
    ]);
    expect(x.truncated).toBe(false);
  });

  it('refuses lines after end and answers end again with the same failures', () => {
    const x = new FailureExtractor();
    x.push(1, 'Killed');
    const first = x.end();
    expect(x.end()).toBe(first);
    expect(() => x.push(2, 'Killed')).toThrow(/push after end/);
  });
});

describe('the pre-filter', () => {
  const all = FIXTURES.flatMap((name) => fixtureLines(name));

  it.each(FIXTURES)('%s: pushing only the lines mayStart accepts gives the same failures', (name) => {
    const lines = fixtureLines(name);
    expect(extract(lines, mayStart)).toEqual(extract(lines));
    // Lines it rejects exist in every fixture: the filter does filter.
    expect(lines.filter((l) => !mayStart(l)).length).toBeGreaterThan(0);
  });

  it.each(FIXTURES)('%s: skipping every block of lines without a needle gives the same failures', (name) => {
    const lines = fixtureLines(name);
    const blockLines = 4;
    const kept = new Set<number>();
    for (let start = 0; start < lines.length; start += blockLines) {
      const block = lines.slice(start, start + blockLines).join('\n');
      if (DISCOVER_NEEDLES.some((needle) => block.includes(needle))) {
        for (let i = start; i < start + blockLines; i++) kept.add(i);
      }
    }
    expect(
      extract(
        lines.map((l, i) => (kept.has(i) ? l : '\u0000skipped')),
        (l) => l !== '\u0000skipped',
      ),
    ).toEqual(extract(lines));
  });

  it('never passes a line without a needle, and every shape holds a needle after its prefix', () => {
    for (const line of all) {
      if (!mayStart(line)) continue;
      expect(
        DISCOVER_NEEDLES.some((n) => line.includes(n)),
        line,
      ).toBe(true);
      const { content } = splitPrefix(line);
      expect(
        DISCOVER_NEEDLES.some((n) => content.includes(n)),
        line,
      ).toBe(true);
    }
  });

  it('rejects the lines that only look like failures', () => {
    for (const line of [
      'v1/engine/test_engine_args.py::test_error_handling PASSED',
      'v1/engine/test_engine_args.py::test_ValueError_on_bad_dtype PASSED',
      'v1/engine/test_llm_engine.py::test_abort[facebook/opt-125m-True-8] FAILED',
      '[gw0] [ 50%] FAILED v1/engine/test_llm_engine.py::test_abort[facebook/opt-125m-True-8]',
      'RERUN v1/engine/test_llm_engine.py::test_abort[facebook/opt-125m-True-8]',
      'user command error: exit status 1',
      '🚨 Error: The command exited with status 1',
      'command hook exited with status 1',
      '    raise ValueError(',
      '/usr/local/lib/python3.12/dist-packages/vllm/v1/engine/utils.py:691: RuntimeError',
      'Error: a bare Error is the agent talking',
      '_ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _',
      '___________________________________ summary ____________________________________',
    ]) {
      expect(parseLine(line), line).toBeNull();
    }
  });
});
