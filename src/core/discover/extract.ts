// Discovery's extractor: the failures one log holds, found without being told any pattern.
// The caller pushes every cleaned line of one log in order; lines without one of
// DISCOVER_NEEDLES cost one search and change nothing, so a scanner may skip whole blocks that
// hold no needle and push only the lines of the others. Memory is bounded whatever the log's
// size: at most MAX_SIGNATURES failures, MAX_SIGNATURES pending sections and MAX_STREAMS
// open tracebacks.
//
// What becomes a failure (parse-line.ts has the line shapes, signature.ts the keys):
// - every pytest summary line (`FAILED ...`, `ERROR ...`);
// - a FAILURES/ERRORS section header with the class of its last exception `E` line, only when
//   no summary line names that test (a run killed before its summary);
// - the exception line ending a Python traceback, followed per stream (process prefix), and
//   attached to the test whose section it is printed in; of chained tracebacks the last one;
//   nothing from a traceback Python reports as ignored; a known wrapper (signature.ts, WRAPPERS)
//   only when the log holds no exception or infrastructure line before it;
// - every infrastructure line (infra.ts), in a traceback or not.
// An exception line outside a traceback is not a failure (unless it is infrastructure): code
// logs such lines freely.

import { foldTestId } from './normalize.ts';
import { parseLine, type LineEvent, type PytestKind, type SectionPhase } from './parse-line.ts';
import {
  exceptionSignature,
  infraSignature,
  isWrapper,
  sectionSignature,
  summarySignature,
  type Signature,
  type SignatureKind,
} from './signature.ts';

export { DISCOVER_NEEDLES, mayStart } from './parse-line.ts';
export type { SignatureKind } from './signature.ts';

/** One distinct failure of one log. */
export interface Failure {
  readonly kind: SignatureKind;
  /** The normalized key, the same for the same failure in every log. */
  readonly signature: string;
  /** The test id (parametrize id folded), a section's test name, or null when none is known. */
  readonly testId: string | null;
  readonly exception: string | null;
  /** JavaScript regex source matching every line that gives this signature (signature.ts). */
  readonly pattern: string;
  /** 1-based number of the first line that gave it. */
  readonly line: number;
  /** That line as pushed, without trailing whitespace; cut at MAX_TEXT characters. */
  readonly text: string;
  /** How many lines of the log gave it. */
  readonly count: number;
}

/** Distinct failures kept per log; more set `truncated`. */
export const MAX_SIGNATURES = 200;
/** Processes whose open traceback is followed at once; a further one drops the oldest. */
export const MAX_STREAMS = 64;
/** A traceback whose exception line has not come this many lines after its header is dropped. */
export const MAX_TRACEBACK_LINES = 5000;
/** The example line of a failure is cut at this many characters (its pattern needs none of the rest). */
export const MAX_TEXT = 1000;

interface Entry {
  readonly sig: Signature;
  readonly line: number;
  readonly text: string;
  count: number;
  /** For an exception: the section (its test name) it was printed in, resolved at the end. */
  readonly section: string | null;
}

interface OpenTraceback {
  readonly line: number;
  readonly ignored: boolean;
  readonly section: string | null;
}

/** An exception line ending a traceback, held until the next line of its stream says it is not chained. */
interface Pending {
  readonly sig: Signature;
  readonly line: number;
  readonly text: string;
  readonly section: string | null;
}

interface OpenSection {
  readonly kind: PytestKind;
  readonly phase: SectionPhase;
  readonly name: string;
  readonly line: number;
  readonly text: string;
  exception: string | null;
}

interface ClosedSection {
  readonly section: OpenSection;
  count: number;
}

export class FailureExtractor {
  private readonly entries = new Map<string, Entry>();
  private readonly sections = new Map<string, ClosedSection>();
  private readonly tracebacks = new Map<string, OpenTraceback>();
  private readonly pending = new Map<string, Pending>();
  /** Streams whose last line was `Exception ignored in ...`. */
  private readonly ignoring = new Map<string, true>();
  private section: OpenSection | null = null;
  private overflow = false;
  private result: Failure[] | null = null;

  /** Whether the log held more than MAX_SIGNATURES distinct failures (the first ones are kept). */
  get truncated(): boolean {
    return this.overflow;
  }

  /** One cleaned line of the log (no terminator), in order; `lineNumber` is 1-based. */
  push(lineNumber: number, text: string): void {
    if (this.result) throw new Error('FailureExtractor: push after end');
    const parsed = parseLine(text);
    if (parsed === null) return;
    const { stream, event } = parsed;
    const line = { number: lineNumber, text };
    const pending = this.pending.get(stream);
    if (pending) {
      this.pending.delete(stream);
      // A chain connector says the exception just ended was handled or re-raised as another.
      if (event.type !== 'chain') this.commit(pending.sig, pending.line, pending.text, pending.section);
    }
    const ignoring = this.ignoring.delete(stream);
    const traceback = this.tracebacks.get(stream);
    this.tracebacks.delete(stream);
    switch (event.type) {
      case 'traceback':
        setBounded(this.tracebacks, stream, {
          line: lineNumber,
          ignored: ignoring,
          section: this.section?.name ?? null,
        });
        return;
      case 'ignored':
        setBounded(this.ignoring, stream, true);
        return;
      case 'chain':
        return;
      case 'exception': {
        const open = traceback && lineNumber - traceback.line <= MAX_TRACEBACK_LINES ? traceback : null;
        if (ignoring || open?.ignored) return;
        this.onException(stream, event, open, line);
        return;
      }
      case 'infra':
        this.commit(infraSignature(event.infra, null), lineNumber, text, null);
        return;
      default:
        this.onPytest(event, line);
    }
  }

  /** The failures of the log, one per signature, in the order of their first line. */
  end(): Failure[] {
    if (this.result) return this.result;
    for (const p of this.pending.values()) this.commit(p.sig, p.line, p.text, p.section);
    this.pending.clear();
    this.closeSection();
    // A section stands for its test only when no summary line named it.
    const summaries = [...this.entries.values()].filter(
      (e) => e.sig.kind === 'pytest-failed' || e.sig.kind === 'pytest-error',
    );
    const resolved = new Map<string, string>();
    for (const { section, count } of this.sections.values()) {
      const summary = summaries.find((e) => e.sig.kind === section.kind && namesTest(e.sig.testId!, section));
      if (summary) {
        resolved.set(section.name, summary.sig.testId!);
        continue;
      }
      const sig = sectionSignature(section.kind, section.phase, section.name, section.exception);
      const entry = this.commit(sig, section.line, section.text, null);
      if (entry) entry.count += count - 1;
    }
    this.result = [...this.entries.values()]
      .sort((a, b) => a.line - b.line)
      .map((e) => ({
        kind: e.sig.kind,
        signature: e.sig.signature,
        testId: e.section === null ? e.sig.testId : (resolved.get(e.section) ?? foldedName(e.section)),
        exception: e.sig.exception,
        pattern: e.sig.pattern,
        line: e.line,
        text: e.text,
        count: e.count,
      }));
    return this.result;
  }

  private onException(
    stream: string,
    event: Extract<LineEvent, { type: 'exception' }>,
    traceback: OpenTraceback | null,
    line: { number: number; text: string },
  ): void {
    let sig = event.infra && infraSignature(event.infra, event.exception);
    if (!sig) {
      // Outside a traceback an exception line is code talking, not a failure.
      if (!traceback) return;
      if (isWrapper(event.exception, event.message) && this.hasCause()) return;
      sig = exceptionSignature(event.exception, event.message);
    }
    const section = traceback ? traceback.section : (this.section?.name ?? null);
    if (!traceback) {
      this.commit(sig, line.number, line.text, section);
      return;
    }
    // Confirm what a full map pushes out rather than lose it: it only waits for a chain connector.
    setBounded(this.pending, stream, { sig, line: line.number, text: line.text, section }, (p) =>
      this.commit(p.sig, p.line, p.text, p.section),
    );
  }

  private onPytest(event: LineEvent, line: { number: number; text: string }): void {
    switch (event.type) {
      case 'summary':
        this.commit(summarySignature(event.kind, event.testId, event.message), line.number, line.text, null);
        return;
      case 'section':
        this.closeSection();
        this.section = {
          kind: event.kind,
          phase: event.phase,
          name: event.name,
          line: line.number,
          text: line.text,
          exception: null,
        };
        return;
      case 'separator':
        this.closeSection();
        return;
      case 'e-line':
        // The last one wins: of chained exceptions pytest prints the one raised out last.
        if (this.section) this.section.exception = event.exception;
        return;
    }
  }

  /** Whether an exception or infrastructure failure came before: a wrapper then points at it. */
  private hasCause(): boolean {
    if (this.pending.size > 0) return true;
    for (const e of this.entries.values()) if (e.sig.kind === 'exception' || e.sig.kind === 'infra') return true;
    return false;
  }

  private closeSection(): void {
    const s = this.section;
    if (!s) return;
    this.section = null;
    const key = `${s.kind} ${s.phase} ${s.name} ${s.exception ?? ''}`;
    const closed = this.sections.get(key);
    if (closed) closed.count++;
    else if (this.sections.size < MAX_SIGNATURES) this.sections.set(key, { section: s, count: 1 });
    else this.overflow = true;
  }

  /** Counts a line for a signature; returns its entry, or null when the log has too many. */
  private commit(sig: Signature, line: number, text: string, section: string | null): Entry | null {
    const entry = this.entries.get(sig.signature);
    if (entry) {
      entry.count++;
      return entry;
    }
    if (this.entries.size >= MAX_SIGNATURES) {
      this.overflow = true;
      return null;
    }
    const added: Entry = { sig, line, text: cut(text), count: 1, section };
    this.entries.set(sig.signature, added);
    return added;
  }
}

/** Sets a per-stream value, dropping (and handing to `evict`) the oldest stream past MAX_STREAMS. */
function setBounded<V>(map: Map<string, V>, stream: string, value: V, evict?: (dropped: V) => void): void {
  if (!map.has(stream) && map.size >= MAX_STREAMS) {
    const [oldest, dropped] = map.entries().next().value as [string, V];
    map.delete(oldest);
    evict?.(dropped);
  }
  map.set(stream, value);
}

function cut(text: string): string {
  const trimmed = text.trimEnd();
  return trimmed.length > MAX_TEXT ? `${trimmed.slice(0, MAX_TEXT)}…` : trimmed;
}

/** A section's test name with its parametrize id folded, as test ids are. */
function foldedName(name: string): string {
  return foldTestId(name).text;
}

/**
 * Whether a summary line's (folded) test id is the test a section header names: the header
 * shows `TestA.test_b[p]` for `path.py::TestA::test_b[p]`, and the path alone when collecting.
 */
function namesTest(testId: string, section: OpenSection): boolean {
  const name = foldedName(section.name);
  if (section.phase === 'collecting') return testId === name;
  const open = name.indexOf('[');
  const head = open < 0 ? name : name.slice(0, open);
  const tail = head.replaceAll('.', '::') + (open < 0 ? '' : name.slice(open));
  return testId.endsWith(`::${tail}`);
}
