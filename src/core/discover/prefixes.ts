// The prefixes other processes write before a line's own text. Discovery strips them before it
// parses a line, and every pattern it emits allows them again (PREFIX_PATTERN), so a pattern
// matches the line whatever pid or timestamp the prefix held.
//
// They come in a fixed order, each at most once: a vLLM process tag, then a torchrun rank tag,
// then either a vLLM logger head or a c10 (glog) head. The process and rank tags name the
// stream a line belongs to: a traceback is followed within its own stream, so the lines of an
// engine core and of the API server printed at the same time do not mix.

/** One kind of prefix, with a line before and after stripping (docs are generated from these). */
export interface LinePrefix {
  readonly name: string;
  readonly description: string;
  readonly before: string;
  readonly after: string;
}

export const LINE_PREFIXES: readonly LinePrefix[] = Object.freeze([
  {
    name: 'vllm-process',
    description: 'vLLM tags the output of each process it starts with the process name and pid.',
    before: '(EngineCore_0 pid=5821) Traceback (most recent call last):',
    after: 'Traceback (most recent call last):',
  },
  {
    name: 'torchrun-rank',
    description: 'torchrun prefixes the output of each rank.',
    before: '[rank1]: RuntimeError: NCCL error: unhandled system error',
    after: 'RuntimeError: NCCL error: unhandled system error',
  },
  {
    name: 'vllm-logger',
    description:
      "vLLM's log format repeats level, date, time and source before every line of a message, " +
      'tracebacks logged with logger.exception included.',
    before: '(EngineCore_0 pid=5821) ERROR 03-04 05:06:07 [core.py:708] ValueError: No available memory',
    after: 'ValueError: No available memory',
  },
  {
    name: 'c10-log',
    description: "PyTorch's C++ log head: severity, date, time (and thread), source file and line.",
    before: '[rank0]:[E304 05:06:07.123456789 ProcessGroupNCCL.cpp:632] [Rank 0] Watchdog caught collective ...',
    after: '[Rank 0] Watchdog caught collective ...',
  },
]);

// Bounded repeats keep a line that only looks like a prefix cheap to reject.
const PROCESS = String.raw`\([^()]{0,80}pid=\d+[^()]{0,80}\) `;
const RANK = String.raw`\[rank\d+\]: ?`;
const LOGGER =
  String.raw`(?:DEBUG|INFO|WARNING|ERROR|CRITICAL) \d\d-\d\d \d\d:\d\d:\d\d(?:\.\d+)?` +
  String.raw` \[?[\w.-]{1,80}:\d+\] `;
const C10 = String.raw`\[[EWIF](?:\d{3,4} \d\d:\d\d:\d\d\.\d+(?: \d+)?)? [\w.-]{1,80}:\d+\] `;

/**
 * Regex source for the optional prefixes, to follow `^` in an emitted pattern. Only `?` groups:
 * no group that repeats something repeatable, which the scanner would warn about.
 */
export const PREFIX_PATTERN = `(?:${PROCESS})?(?:${RANK})?(?:${LOGGER}|${C10})?`;

const PREFIX = new RegExp(`^((?:${PROCESS})?(?:${RANK})?)(?:${LOGGER}|${C10})?`);

/** A line split into its stream (the process and rank tags, '' for none) and its own text. */
export interface SplitLine {
  readonly stream: string;
  readonly content: string;
}

export function splitPrefix(line: string): SplitLine {
  // Cheap exit for the common case: nothing that can start a prefix.
  const c = line.charCodeAt(0);
  if (c !== 0x28 && c !== 0x5b && c !== 0x44 && c !== 0x49 && c !== 0x57 && c !== 0x45 && c !== 0x43) {
    return { stream: '', content: line };
  }
  const m = PREFIX.exec(line)!; // every group is optional: it always matches
  return { stream: m[1]!, content: line.slice(m[0].length) };
}
