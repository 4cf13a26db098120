// Reading one cleaned log line: is it one of the few shapes discovery cares about, and which?
// Pure and stateless; the extractor (extract.ts) gives the shapes their meaning in context.
//
// The shapes, each opening the line's own text (prefixes stripped, prefixes.ts):
//   summary     FAILED tests/x.py::test_y[p] - ValueError: msg     (also ERROR, `FAILED [1.5s] ...`)
//   section     ________ test_y[p] ________    ____ ERROR at setup of test_z ____
//   separator   ===== short test summary info =====               (ends a FAILURES section)
//   e-line      E       AssertionError: assert 1 == 2             (pytest's exception lines)
//   traceback   Traceback (most recent call last):
//   chain       During handling of the above exception, another exception occurred:
//   ignored     Exception ignored in: <function Worker.__del__ at 0x7f...>
//   exception   ValueError: msg    torch.OutOfMemoryError: CUDA out of memory. ...
//   infra       Killed    [Rank 0] Watchdog caught ...    what():  CUDA error: ...   (infra.ts)
// Every shape holds one of DISCOVER_NEEDLES, so a line without any is rejected by one search.

import { escapeRegExp } from '../patterns.ts';
import { matchInfraException, matchInfraLine, matchInfraWhat, type InfraHit } from './infra.ts';
import { splitPrefix } from './prefixes.ts';

/**
 * Literal text every line that can matter to discovery contains (case-sensitive): a block of
 * lines holding none of them can be skipped unread.
 */
export const DISCOVER_NEEDLES: readonly string[] = Object.freeze([
  // pytest: summary lines, section headers (`_ test_x _`, `_ TestClass.test_x _`), separators, E lines
  'FAILED ',
  'ERROR ',
  '_ test',
  '_ Test',
  '===',
  'E   ',
  // Python: traceback headers, chain connectors, and the words exception classes end in
  'Traceback',
  'above exception',
  'Error',
  'Exception',
  'Timeout',
  'Interrupt',
  'Failed',
  // infrastructure lines without an exception class (infra.ts)
  'Killed',
  'status 137',
  'CUDA',
  'NCCL',
  'Watchdog',
  'space left on device',
  'timed out',
]);

const ANY_NEEDLE = new RegExp(DISCOVER_NEEDLES.map(escapeRegExp).join('|'));

export type PytestKind = 'pytest-failed' | 'pytest-error';

/** Which part of a test a FAILURES or ERRORS section header names. */
export type SectionPhase = 'call' | 'setup' | 'teardown' | 'collecting';

export type LineEvent =
  | { readonly type: 'summary'; readonly kind: PytestKind; readonly testId: string; readonly message: string | null }
  | { readonly type: 'section'; readonly kind: PytestKind; readonly phase: SectionPhase; readonly name: string }
  | { readonly type: 'separator' }
  | { readonly type: 'e-line'; readonly exception: string }
  | { readonly type: 'traceback' }
  | { readonly type: 'chain' }
  | { readonly type: 'ignored' }
  | {
      readonly type: 'exception';
      readonly exception: string;
      readonly message: string | null;
      /** The line is an infrastructure signature (infra.ts) as well as an exception line. */
      readonly infra: InfraHit | null;
    }
  | { readonly type: 'infra'; readonly infra: InfraHit };

export interface ParsedLine {
  /** The process and rank tags the line carried ('' for none): tracebacks are per stream. */
  readonly stream: string;
  readonly event: LineEvent;
}

/** Only this much of a line is parsed: a signature sits at its start. */
export const MAX_PARSED_LINE = 16 * 1024;

/**
 * A Python exception line: a dotted class name ending in Error, Exception, Timeout, Interrupt or
 * Failed, alone or followed by `: ` and its message.
 */
const EXCEPTION_LINE = /^((?:[A-Za-z_][\w.]*)?(?:Error|Exception|Timeout|Interrupt|Failed))(?::(?: (.*))?)?$/;
/** Not classes of their own: `Error: The command exited with status 1` is the agent's. */
const NOT_CLASSES = new Set(['Error', 'Timeout', 'Interrupt']);

/** The exception class an exception line or pytest message opens with, or null. */
export function exceptionClass(text: string): { exception: string; message: string | null } | null {
  const m = EXCEPTION_LINE.exec(text);
  if (!m || NOT_CLASSES.has(m[1]!)) return null;
  const message = m[2]?.trimEnd();
  return { exception: m[1]!, message: message ? message : null };
}

/**
 * The exception a pytest message or `E` line names: its class, or AssertionError for a bare
 * `assert ...` (pytest's rewritten assertion, whose class it does not print).
 */
export function pytestException(message: string): string | null {
  if (/^assert\b/.test(message)) return 'AssertionError';
  return exceptionClass(message)?.exception ?? null;
}

const SUMMARY_HEAD = /^(FAILED|ERROR) (?:\[ *\d+(?:\.\d+)?m?s\] )?/;
const NODE_ID = /^[\w./-]+\.py(?:::[^\s[\]:]+)*/;

/**
 * A pytest short-summary line: `FAILED|ERROR [duration] <test id> [- <message>]`. The test id's
 * parametrize part runs to the `]` that balances its `[` and is followed by ` - ` or the end;
 * without one (a parameter holding a stray bracket), to the first `]` so followed.
 */
function parseSummary(content: string): LineEvent | null {
  const head = SUMMARY_HEAD.exec(content);
  if (!head) return null;
  const rest = content.slice(head[0].length);
  const id = NODE_ID.exec(rest);
  if (!id) return null;
  let end = id[0].length;
  if (rest[end] === '[') {
    end = paramsEnd(rest, end);
    if (end < 0) return null;
  }
  const tail = rest.slice(end);
  if (tail !== '' && !tail.startsWith(' - ')) return null;
  const message = tail.slice(3).trim();
  return {
    type: 'summary',
    kind: head[1] === 'FAILED' ? 'pytest-failed' : 'pytest-error',
    testId: rest.slice(0, end),
    message: message === '' ? null : message,
  };
}

/** The index after the `]` ending the parametrize id opening at `open`, or -1. */
function paramsEnd(text: string, open: number): number {
  let depth = 0;
  let fallback = -1;
  for (let i = open; i < text.length; i++) {
    const c = text[i];
    if (c === '[') depth++;
    else if (c === ']') {
      depth--;
      const next = i + 1;
      if (next === text.length || text.startsWith(' - ', next)) {
        if (depth === 0) return next;
        if (fallback < 0) fallback = next;
      }
    }
  }
  return fallback;
}

/** `___ name ___`: pytest pads with at least one `_` a side; long parametrized names get one. */
const SECTION = /^_+ (.+?) _+$/;
/** A test as a section names it: `test_x`, `test_x[params]`, `TestClass.test_x[params]`. */
const TEST_NAME = /^(?:Test\w*\.)*test\w*(?:\[.*\])?$/;
const ERROR_SECTION = /^ERROR (?:at (setup|teardown) of (.+)|collecting (.+))$/;

function parseSection(content: string): LineEvent | null {
  const m = SECTION.exec(content);
  if (!m) return null;
  const title = m[1]!;
  if (TEST_NAME.test(title)) return { type: 'section', kind: 'pytest-failed', phase: 'call', name: title };
  const e = ERROR_SECTION.exec(title);
  if (!e) return null;
  const phase = e[1] === 'setup' ? 'setup' : e[1] === 'teardown' ? 'teardown' : 'collecting';
  return { type: 'section', kind: 'pytest-error', phase, name: (e[2] ?? e[3])! };
}

const SEPARATOR = /^={3,}(?: .* ={3,})?$/;
const E_LINE = /^E {3,}(\S.*)$/;
const TRACEBACK = 'Traceback (most recent call last):';
/** What Python prints between chained tracebacks. */
const CHAIN = new Set([
  'During handling of the above exception, another exception occurred:',
  'The above exception was the direct cause of the following exception:',
]);
const IGNORED = /^Exception ignored\b/;
const WHAT = /^\s*what\(\):\s+(.*)$/;

/**
 * The shape of one cleaned line (no line terminator), or null when it has none of them: then
 * it cannot change what the extractor finds.
 */
export function parseLine(line: string): ParsedLine | null {
  const text = line.length > MAX_PARSED_LINE ? line.slice(0, MAX_PARSED_LINE) : line;
  if (!ANY_NEEDLE.test(text)) return null;
  const { stream, content: raw } = splitPrefix(text);
  const content = raw.trimEnd();
  const event = parseContent(content);
  return event ? { stream, event } : null;
}

function parseContent(content: string): LineEvent | null {
  const first = content[0];
  if (first === 'F' || first === 'E') {
    const summary = parseSummary(content);
    if (summary) return summary;
    const e = E_LINE.exec(content);
    if (e) {
      const exception = pytestException(e[1]!);
      return exception ? { type: 'e-line', exception } : null;
    }
  } else if (first === '_') {
    const section = parseSection(content);
    if (section) return section;
  } else if (first === '=' && SEPARATOR.test(content)) {
    return { type: 'separator' };
  }
  if (content === TRACEBACK) return { type: 'traceback' };
  if (CHAIN.has(content)) return { type: 'chain' };
  if (IGNORED.test(content)) return { type: 'ignored' };
  const exception = exceptionClass(content);
  if (exception) return { type: 'exception', ...exception, infra: matchInfraException(content, exception.message) };
  const what = WHAT.exec(content);
  const infra = what ? matchInfraWhat(what[1]!) : matchInfraLine(content);
  return infra ? { type: 'infra', infra } : null;
}

/**
 * Whether a line can change what a FailureExtractor finds: exactly the lines with a shape
 * above. Every such line contains one of DISCOVER_NEEDLES. FailureExtractor.push does this
 * test itself; call this only to filter lines before handing them over.
 */
export function mayStart(line: string): boolean {
  return parseLine(line) !== null;
}
