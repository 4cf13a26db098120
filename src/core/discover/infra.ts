// The infrastructure signatures: failures of the machine, the network or the job rather than
// of a test. A small, documented set; each rule is data (docs are generated from it, tests run
// every example) plus the regex both the extractor and the emitted pattern are built from, so a
// pattern matches exactly the lines its rule took.
//
// Where a rule looks: `line` rules on a line's own text (prefixes stripped); `exception` rules
// on the message of an exception line (`SomeError: message`, the class at the start of the
// line); `exception-or-what` ones also on the `what():` line C++ prints when an uncaught
// exception ends a process. Like every signature, the text must open its line: a log message
// quoting an old error (`retrying after previous error: ConnectionResetError: ...`) is a quote.

import { maskMessage } from './normalize.ts';
import { PREFIX_PATTERN } from './prefixes.ts';

/**
 * An exception class as it opens an exception line: a dotted name ending in one of these words.
 * The extractor's class regex (parse-line.ts) requires more (a leading letter, no bare `Error`).
 */
export const EXCEPTION_CLASS_PATTERN = String.raw`[\w.]*(?:Error|Exception|Timeout|Interrupt|Failed)`;

const WHAT = String.raw`\s*what\(\):\s+`;
const HEADS = {
  line: '',
  exception: `${EXCEPTION_CLASS_PATTERN}: `,
  'exception-or-what': `(?:${EXCEPTION_CLASS_PATTERN}: |${WHAT})`,
} as const;

export type InfraScope = keyof typeof HEADS;

/** A line an infrastructure rule took: its signature and the pattern of that signature. */
export interface InfraHit {
  readonly rule: string;
  readonly signature: string;
  readonly pattern: string;
}

export interface InfraRule {
  readonly name: string;
  readonly description: string;
  readonly scope: InfraScope;
  /** Lines (prefixes stripped) the rule takes, and the signature each gives. */
  readonly examples: readonly { readonly line: string; readonly signature: string }[];
}

interface RuleSpec extends InfraRule {
  /** Signature text after `infra `; a rule with a detail appends the detail, masked. */
  readonly title: string;
  /** Regex source anchored where the rule looks (see scope). */
  readonly body: string;
  /**
   * For rules whose signature carries a detail: the detail's capture (a group), and the regex
   * source that must follow it. Detail rules match `body + detail + after`.
   */
  readonly detail?: { readonly capture: string; readonly after: string };
}

const SPECS: readonly RuleSpec[] = [
  {
    name: 'killed',
    description: 'The process was killed (SIGKILL, usually the OOM killer): the shell reports it.',
    scope: 'line',
    examples: [
      { line: 'Killed', signature: 'infra Killed' },
      { line: '/bin/bash: line 1:  4312 Killed                  pytest -v -s v1/engine', signature: 'infra Killed' },
    ],
    title: 'Killed',
    // bash pads the status to a column: a message that starts `Killed 2 idle workers` is not this.
    body: String.raw`(?:\S+: line \d+: +\d+ )?Killed(?:\s*$| {2,}\S)`,
  },
  {
    name: 'exit-137',
    description:
      'The step ended with status 137 (128 + SIGKILL): killed, usually out of memory. Other ' +
      "statuses (`exit status 1`) are every failing step's ending, never a signature.",
    scope: 'line',
    examples: [
      { line: '🚨 Error: The command exited with status 137', signature: 'infra exit status 137' },
      { line: 'user command error: exit status 137', signature: 'infra exit status 137' },
    ],
    title: 'exit status 137',
    body:
      String.raw`(?:(?:🚨 )?Error: The command (?:hook )?exited with|user command error: exit|` +
      String.raw`command hook exited with) status 137\s*$`,
  },
  {
    name: 'cuda-oom',
    description: "PyTorch's caching allocator could not allocate; the byte counts that follow vary.",
    scope: 'exception-or-what',
    examples: [
      {
        line:
          'torch.OutOfMemoryError: CUDA out of memory. Tried to allocate 2.00 GiB. ' +
          'GPU 0 has a total capacity of 79.19 GiB',
        signature: 'infra CUDA out of memory',
      },
    ],
    title: 'CUDA out of memory',
    body: String.raw`CUDA out of memory\b`,
  },
  {
    name: 'cuda-error',
    description: 'A CUDA runtime error, keyed on its description.',
    scope: 'exception-or-what',
    examples: [
      {
        line: 'RuntimeError: CUDA error: an illegal memory access was encountered',
        signature: 'infra CUDA error: an illegal memory access was encountered',
      },
      {
        line: '  what():  CUDA error: unspecified launch failure',
        signature: 'infra CUDA error: unspecified launch failure',
      },
    ],
    title: 'CUDA error: ',
    body: 'CUDA error: ',
    detail: { capture: '(.+?)', after: String.raw`\s*$` },
  },
  {
    name: 'nccl-error',
    description:
      'An NCCL failure, keyed on its reason (the source location before it and the version after ' +
      'it are left out).',
    scope: 'exception-or-what',
    examples: [
      {
        line:
          'torch.distributed.DistBackendError: NCCL error in: /pytorch/torch/csrc/distributed/c10d/' +
          'NCCLUtils.cpp:77, unhandled cuda error (run with NCCL_DEBUG=INFO for details), NCCL version 2.26.2',
        signature: 'infra NCCL error: unhandled cuda error',
      },
    ],
    title: 'NCCL error: ',
    body: String.raw`.*NCCL [Ee]rror(?: \d+)?(?: in: [^,]*,|:) `,
    detail: { capture: '(.+?)', after: String.raw`(?: \(run with|, NCCL version|\s*$)` },
  },
  {
    name: 'nccl-watchdog',
    description: "c10d's watchdog gave up on a collective; keyed on the operation, not its sequence number.",
    scope: 'line',
    examples: [
      {
        line:
          '[Rank 1] Watchdog caught collective operation timeout: WorkNCCL(SeqNum=8812, OpType=ALLREDUCE, ' +
          'NumelIn=4096, NumelOut=4096, Timeout(ms)=600000) ran for 600017 milliseconds before timing out.',
        signature: 'infra NCCL watchdog timeout: OpType=ALLREDUCE',
      },
    ],
    title: 'NCCL watchdog timeout: OpType=',
    body: String.raw`\[Rank \d+\] Watchdog caught collective operation timeout: WorkNCCL\(SeqNum=\d+, OpType=`,
    detail: { capture: String.raw`(\w+)`, after: String.raw`\b` },
  },
  {
    name: 'no-space',
    description:
      'A disk filled up. Taken on a line that opens as an error (an exception class, `ERROR:`, ' +
      '`fatal:`, `tool: error`, `tool: failed`, `tool: cannot`); a warning about it is not the failure.',
    scope: 'line',
    examples: [
      { line: 'OSError: [Errno 28] No space left on device', signature: 'infra No space left on device' },
      {
        line:
          'docker: failed to register layer: write /usr/local/lib/python3.12/libcudnn.so.9: ' +
          'no space left on device',
        signature: 'infra No space left on device',
      },
    ],
    title: 'No space left on device',
    body:
      String.raw`(?:${EXCEPTION_CLASS_PATTERN}: |ERROR: |[Ee]rror: |fatal: |[\w.-]+: (?:error|failed|[Cc]annot)\b)` +
      String.raw`.*[Nn]o space left on device`,
  },
  {
    name: 'connection-reset',
    description: 'The peer reset a connection, whichever library raised it.',
    scope: 'exception',
    examples: [
      {
        line: 'ConnectionResetError: [Errno 104] Connection reset by peer',
        signature: 'infra Connection reset by peer',
      },
      {
        line:
          "requests.exceptions.ConnectionError: ('Connection aborted.', ConnectionResetError(104, " +
          "'Connection reset by peer'))",
        signature: 'infra Connection reset by peer',
      },
    ],
    title: 'Connection reset by peer',
    body: '.*Connection reset by peer',
  },
  {
    name: 'hf-timed-out',
    description: 'A read from or connection to the Hugging Face hub timed out.',
    scope: 'exception',
    examples: [
      {
        line:
          "requests.exceptions.ReadTimeout: HTTPSConnectionPool(host='huggingface.co', port=443): Read timed out. " +
          '(read timeout=10)',
        signature: 'infra Hugging Face hub timed out',
      },
    ],
    title: 'Hugging Face hub timed out',
    body: String.raw`.*huggingface\.co\b.*timed out`,
  },
  {
    name: 'hf-gateway-timeout',
    description: "The Hugging Face hub's gateway timed out (an HTTP 50x `Gateway Time-out`).",
    scope: 'exception',
    examples: [
      {
        line:
          'huggingface_hub.errors.HfHubHTTPError: 504 Server Error: Gateway Time-out for url: ' +
          'https://huggingface.co/api/models/Qwen/Qwen3-0.6B/revision/main',
        signature: 'infra Hugging Face hub gateway timeout',
      },
    ],
    title: 'Hugging Face hub gateway timeout',
    body: String.raw`.*\b50\d Server Error: Gateway Time-?out for url: https:\/\/huggingface\.co\/`,
  },
  {
    name: 'pytest-timeout',
    description:
      "pytest-timeout's banner: a test overran its timeout and the run was ended (thread method, " +
      'which prints no summary).',
    scope: 'line',
    examples: [
      {
        line: '+++++++++++++++++++++++++++++++++++ Timeout ++++++++++++++++++++++++++++++++++++',
        signature: 'infra pytest-timeout',
      },
    ],
    title: 'pytest-timeout',
    body: String.raw`\+{3,} Timeout \+{3,}\s*$`,
  },
  {
    name: 'job-timeout',
    description:
      'The job hit its time limit, as the agent reports it at the end of the log (the wording the ' +
      "project's simulator writes).",
    scope: 'line',
    examples: [{ line: '# Job timed out after 180 minutes', signature: 'infra Job timed out' }],
    title: 'Job timed out',
    body: String.raw`# Job timed out after \d+ minutes?\b`,
  },
];

export const INFRA_RULES: readonly InfraRule[] = Object.freeze(
  SPECS.map(({ name, description, scope, examples }) => Object.freeze({ name, description, scope, examples })),
);

interface Compiled {
  readonly spec: RuleSpec;
  readonly re: RegExp;
}

const COMPILED: readonly Compiled[] = SPECS.map((spec) => ({
  spec,
  re: new RegExp(`^${spec.body}${spec.detail ? spec.detail.capture + spec.detail.after : ''}`),
}));

const LINE_RULES = COMPILED.filter((c) => c.spec.scope === 'line');
const EXCEPTION_RULES = COMPILED.filter((c) => c.spec.scope !== 'line');
const WHAT_RULES = COMPILED.filter((c) => c.spec.scope === 'exception-or-what');

function hit({ spec, re }: Compiled, text: string): InfraHit | null {
  const m = re.exec(text);
  if (!m) return null;
  const head = `^${PREFIX_PATTERN}${HEADS[spec.scope]}${spec.body}`;
  if (!spec.detail) return { rule: spec.name, signature: `infra ${spec.title}`, pattern: head };
  const detail = maskMessage(m[1]!);
  return {
    rule: spec.name,
    signature: `infra ${spec.title}${detail.text}`,
    pattern: `${head}${detail.pattern}${detail.complete ? spec.detail.after : ''}`,
  };
}

function first(rules: readonly Compiled[], text: string): InfraHit | null {
  for (const rule of rules) {
    const h = hit(rule, text);
    if (h) return h;
  }
  return null;
}

/** The infrastructure signature of a line's own text, by the `line` rules. */
export function matchInfraLine(content: string): InfraHit | null {
  return first(LINE_RULES, content);
}

/**
 * The infrastructure signature of an exception line: the exception rules on its message, then
 * the `line` rules on the whole line (an `OSError: ... No space left on device`).
 */
export function matchInfraException(content: string, message: string | null): InfraHit | null {
  return (message === null ? null : first(EXCEPTION_RULES, message)) ?? first(LINE_RULES, content);
}

/** The infrastructure signature of the text after `what():` on a C++ terminate line. */
export function matchInfraWhat(message: string): InfraHit | null {
  return first(WHAT_RULES, message);
}
