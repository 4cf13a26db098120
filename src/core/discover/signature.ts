// What a failure is keyed on, and the regex that finds it again: built together from the same
// pieces, so that every line that gives a signature is matched by that signature's pattern.
//
// - pytest summary lines key on (test id, exception class): the message varies (values, sizes,
//   reprs) where the class does not. A bare `assert ...` message is pytest's rewritten
//   AssertionError. A message that opens with no class (cut by pytest's `...`) keys on itself,
//   masked; no message at all keys on the test id alone.
// - FAILURES / ERRORS section headers (used when no summary line names the test) key on the
//   name the header shows (pytest prints no file there) and the class of the section's last
//   exception `E` line, marked `(no summary line)`: their pattern can only match the header.
// - Exception lines key on the class and the masked message (normalize.ts).
// - Infrastructure lines key on their rule (infra.ts).
// Every pattern is anchored at the line's start, allows the known prefixes (prefixes.ts) and
// holds literal text the scanner can search blocks for.

import { escapeRegExp } from '../patterns.ts';
import type { InfraHit } from './infra.ts';
import { foldTestId, maskMessage } from './normalize.ts';
import { pytestException, type PytestKind, type SectionPhase } from './parse-line.ts';
import { PREFIX_PATTERN } from './prefixes.ts';

export type SignatureKind = PytestKind | 'exception' | 'infra';

export interface Signature {
  readonly kind: SignatureKind;
  /** The normalized key: failures with the same signature are the same failure. */
  readonly signature: string;
  /** The test id, folded (normalize.ts); a section's test name; null when none is known. */
  readonly testId: string | null;
  /** The exception class, when one is known. */
  readonly exception: string | null;
  /** JavaScript regex source matching the lines that give this signature, whatever they vary in. */
  readonly pattern: string;
}

/** `FAILED [1.5s] ...`: the duration some runners print before the test id. */
const DURATION = String.raw`(?:\[ *\d+(?:\.\d+)?m?s\] )?`;

export function summarySignature(kind: PytestKind, testId: string, message: string | null): Signature {
  const id = foldTestId(testId);
  const exception = message === null ? null : pytestException(message);
  let text: string;
  let tail: string;
  if (exception === 'AssertionError') {
    // Keyed together: pytest prints a failed `assert` bare, an explicit raise with its class.
    text = ' AssertionError';
    tail = String.raw` - (?:AssertionError(?::|\s*$)|assert\b)`;
  } else if (exception !== null) {
    text = ` ${exception}`;
    tail = String.raw` - ${escapeRegExp(exception)}(?::|\s*$)`;
  } else if (message !== null) {
    const masked = maskMessage(message);
    text = ` - ${masked.text}`;
    tail = ` - ${masked.pattern}${masked.complete ? String.raw`\s*$` : ''}`;
  } else {
    text = '';
    tail = String.raw`\s*$`;
  }
  const word = kind === 'pytest-failed' ? 'FAILED' : 'ERROR';
  return {
    kind,
    signature: `${kind} ${id.text}${text}`,
    testId: id.text,
    exception,
    pattern: `^${PREFIX_PATTERN}${word} ${DURATION}${id.pattern}${tail}`,
  };
}

export function sectionSignature(
  kind: PytestKind,
  phase: SectionPhase,
  name: string,
  exception: string | null,
): Signature {
  const id = foldTestId(name);
  const title = phase === 'call' ? '' : phase === 'collecting' ? 'ERROR collecting ' : `ERROR at ${phase} of `;
  const where = phase === 'call' ? '' : phase === 'collecting' ? 'collecting, ' : `at ${phase}, `;
  return {
    kind,
    signature: `${kind} ${id.text}${exception === null ? '' : ` ${exception}`} (${where}no summary line)`,
    testId: id.text,
    exception,
    pattern: String.raw`^${PREFIX_PATTERN}_+ ${escapeRegExp(title)}${id.pattern} _+\s*$`,
  };
}

export function exceptionSignature(exception: string, message: string | null): Signature {
  const masked = message === null ? null : maskMessage(message);
  const rest = masked === null ? String.raw`:?\s*$` : `: ${masked.pattern}${masked.complete ? String.raw`\s*$` : ''}`;
  return {
    kind: 'exception',
    signature: `exception ${exception}${masked === null ? '' : `: ${masked.text}`}`,
    // Not part of the key: the extractor attaches the test a traceback was printed under.
    testId: null,
    exception,
    pattern: `^${PREFIX_PATTERN}${escapeRegExp(exception)}${rest}`,
  };
}

/** An infrastructure line's signature; `exception` is the class when the line was an exception line. */
export function infraSignature(hit: InfraHit, exception: string | null): Signature {
  return { kind: 'infra', signature: hit.signature, testId: null, exception, pattern: hit.pattern };
}

/**
 * Exceptions that only point at an earlier one: never a root cause when the log holds an
 * earlier exception or infrastructure line (their messages say "see above").
 */
export const WRAPPERS: readonly { readonly exception: string; readonly message: string }[] = Object.freeze([
  { exception: 'RuntimeError', message: 'Engine core initialization failed. See root cause above.' },
  {
    exception: 'EngineDeadError',
    message: 'EngineCore encountered an issue. See stack trace (above) for the root cause.',
  },
]);

export function isWrapper(exception: string, message: string | null): boolean {
  const name = exception.slice(exception.lastIndexOf('.') + 1);
  return message !== null && WRAPPERS.some((w) => w.exception === name && message.startsWith(w.message));
}

/** One keying rule, as data: an excerpt of a log and the signatures the extractor gives it. */
export interface SignatureRule {
  readonly name: string;
  readonly description: string;
  readonly before: readonly string[];
  readonly after: readonly string[];
}

export const SIGNATURE_RULES: readonly SignatureRule[] = Object.freeze([
  {
    name: 'summary-class',
    description: 'A pytest summary line keys on the test id and the exception class; the message is left out.',
    before: [
      'FAILED tests/v1/engine/test_llm_engine.py::test_abort[facebook/opt-125m-True-8] - ValueError: got 7 tokens',
    ],
    after: ['pytest-failed tests/v1/engine/test_llm_engine.py::test_abort[facebook/opt-125m-True-8] ValueError'],
  },
  {
    name: 'bare-assert',
    description:
      "A bare `assert ...` message is pytest's rewritten AssertionError; a duration before the id is dropped.",
    before: ['FAILED [12.4s] tests/v1/sample/test_sampler.py::test_top_p[prompt0-0.5] - assert 3 == 4'],
    after: ['pytest-failed tests/v1/sample/test_sampler.py::test_top_p[prompt0-0.5] AssertionError'],
  },
  {
    name: 'cut-message',
    description: 'A message pytest cut before its class is complete keys on the message itself, masked.',
    before: ['FAILED tests/v1/test_serial.py::test_roundtrip[tensor-1024] - torch.OutOfMem...'],
    after: ['pytest-failed tests/v1/test_serial.py::test_roundtrip[tensor-1024] - torch.OutOfMem...'],
  },
  {
    name: 'fold-params',
    description: 'Inside a parametrize id, temporary paths, addresses, ids, times and ports fold; other digits stay.',
    before: ['ERROR tests/entrypoints/test_server.py::test_health[127.0.0.1:38211-/tmp/tmpq8x2k1vz] - OSError: busy'],
    after: ['pytest-error tests/entrypoints/test_server.py::test_health[127.0.0.1:<port>-<tmp>] OSError'],
  },
  {
    name: 'section-without-summary',
    description:
      "A FAILURES section whose test no summary line names (the run was cut) keys on the header's " +
      'name and the class of its last exception `E` line.',
    before: ['____________ test_prefix_caching[Qwen/Qwen3-0.6B-64] ____________', '', 'E       assert 11 == 12'],
    after: ['pytest-failed test_prefix_caching[Qwen/Qwen3-0.6B-64] AssertionError (no summary line)'],
  },
  {
    name: 'traceback-exception',
    description: 'The exception line ending a traceback keys on its class and masked message; prefixes are stripped.',
    before: [
      '(EngineCore_0 pid=4102) Traceback (most recent call last):',
      '(EngineCore_0 pid=4102)   File "/usr/local/lib/python3.12/dist-packages/vllm/v1/engine/core.py", line 93',
      '(EngineCore_0 pid=4102) ValueError: 4096 is not divisible by 48',
    ],
    after: ['exception ValueError: <n> is not divisible by <n>'],
  },
  {
    name: 'chained-exception',
    description: 'Of a chain of tracebacks, the last exception counts: the one that was raised out.',
    before: [
      'Traceback (most recent call last):',
      '  File "x.py", line 3, in load',
      "KeyError: 'lm_head.weight'",
      '',
      'The above exception was the direct cause of the following exception:',
      '',
      'Traceback (most recent call last):',
      '  File "x.py", line 9, in main',
      "ValueError: checkpoint has no 'lm_head.weight'",
    ],
    after: ["exception ValueError: checkpoint has no 'lm_head.weight'"],
  },
  {
    name: 'wrapper',
    description: "vLLM's `Engine core initialization failed. See root cause above.` is not a cause when one is above.",
    before: [
      '(EngineCore_0 pid=88) Traceback (most recent call last):',
      '(EngineCore_0 pid=88) torch.OutOfMemoryError: CUDA out of memory. Tried to allocate 1.50 GiB.',
      'Traceback (most recent call last):',
      "RuntimeError: Engine core initialization failed. See root cause above. Failed core proc(s): {'EngineCore_0': 1}",
    ],
    after: ['infra CUDA out of memory'],
  },
  {
    name: 'quote',
    description: 'A signature must open its line (after prefixes): an error quoted inside a message is not one.',
    before: [
      'WARNING 03-04 05:06:07 [hub.py:88] retrying after previous error: ConnectionResetError: ' +
        '[Errno 104] Connection reset by peer',
    ],
    after: [],
  },
  {
    name: 'ignored',
    description: 'An exception Python reports as ignored (`Exception ignored in ...`) is not a failure.',
    before: [
      'Exception ignored in: <function Worker.__del__ at 0x7f1d2c3b4a50>',
      'Traceback (most recent call last):',
      "AttributeError: 'NoneType' object has no attribute 'shutdown'",
    ],
    after: [],
  },
  {
    name: 'repeats',
    description:
      'One failure printed several times (a retry wrapper, a traceback logged and printed) is one ' +
      'signature with a count; RERUN lines of pytest-rerunfailures are never signatures.',
    before: [
      'RERUN tests/v1/test_async.py::test_stream',
      'FAILED tests/v1/test_async.py::test_stream - TimeoutError: no output in 60s',
      'FAILED tests/v1/test_async.py::test_stream - TimeoutError: no output in 90s',
    ],
    after: ['pytest-failed tests/v1/test_async.py::test_stream TimeoutError'],
  },
]);
