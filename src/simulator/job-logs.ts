// Serves each job's log bytes from its LogSpec: small logs rendered whole and kept in a bounded
// cache, big logs streamed from their layout, so memory stays small whatever the log sizes. The
// clean lines come from the same construction as the bytes (log-text.ts, big-log.ts).

import { bigLogChunks, bigLogCleanLines, layoutBigLog, type BigLogLayout } from './big-log.ts';
import { renderLog, type LogSpec, type RenderedLog } from './log-text.ts';
import type { FlakeKind } from './signatures.ts';

/** What the dataset knows about each job's log, by job id. */
export interface JobLogs {
  /** False when the log endpoint answers 404: not a script job, never started, or expired. */
  logExists(jobId: string): boolean;
  /** Size in bytes of the raw log (0 when empty). Throws when the log does not exist. */
  logSize(jobId: string): number;
  /** The raw bytes served for [start, end), in chunks; never the whole of a big log at once. */
  logChunks(jobId: string, start?: number, end?: number): Iterable<Buffer>;
  /**
   * The lines a correct cleaner yields from the raw bytes: UTF-8 decoded as WHATWG TextDecoder
   * does (U+FFFD for invalid sequences), `bk;` markers, CSI and OSC sequences removed, split on
   * `\r\n`, `\n` and bare `\r`; a final empty piece after the last terminator is not a line.
   * Empty when the log does not exist.
   */
  cleanLines(jobId: string): Iterable<string>;
  /** `header_times` of the JSON log shape: times of the group header lines. */
  headerTimes(jobId: string): readonly number[];
  /** The flakes planted in this job's log, for tests and debugging. */
  flakes(jobId: string): readonly FlakeKind[];
}

/** Bytes of rendered small logs kept; beyond it the oldest are dropped (and re-rendered on demand). */
const CACHE_BYTES = 16 * 1024 * 1024;

/** The logs of a dataset whose subclass says what each job's log is (its LogSpec). */
export abstract class JobLogStore implements JobLogs {
  private readonly rendered = new Map<string, RenderedLog>();
  private renderedBytes = 0;
  private readonly layouts = new Map<string, BigLogLayout>();

  /** The job's log spec; undefined for a job without a log (not a script job, never started). */
  protected abstract logSpec(jobId: string): LogSpec | undefined;

  logExists(jobId: string): boolean {
    const spec = this.logSpec(jobId);
    return spec !== undefined && spec.kind !== 'missing';
  }

  flakes(jobId: string): readonly FlakeKind[] {
    return this.logExists(jobId) ? (this.logSpec(jobId) as LogSpec).flakes : [];
  }

  private spec(jobId: string): LogSpec {
    const spec = this.logSpec(jobId);
    if (!spec || spec.kind === 'missing') throw new Error(`no log for job ${jobId}`);
    return spec;
  }

  /** Small logs are rendered whole and kept in a bounded cache (a scan reads size, bytes, lines). */
  private small(jobId: string, spec: LogSpec): RenderedLog {
    let log = this.rendered.get(jobId);
    if (log) return log;
    log = renderLog(spec);
    this.rendered.set(jobId, log);
    this.renderedBytes += log.bytes.length;
    for (const [id, old] of this.rendered) {
      if (this.renderedBytes <= CACHE_BYTES) break;
      this.rendered.delete(id);
      this.renderedBytes -= old.bytes.length;
    }
    return log;
  }

  private layout(jobId: string, spec: LogSpec): BigLogLayout {
    let layout = this.layouts.get(jobId);
    if (!layout) {
      layout = layoutBigLog(spec);
      this.layouts.set(jobId, layout);
    }
    return layout;
  }

  logSize(jobId: string): number {
    const spec = this.spec(jobId);
    return spec.kind === 'big' ? this.layout(jobId, spec).size : this.small(jobId, spec).bytes.length;
  }

  *logChunks(jobId: string, start = 0, end?: number): Generator<Buffer> {
    const spec = this.spec(jobId);
    const stop = Math.min(end ?? Number.MAX_SAFE_INTEGER, this.logSize(jobId));
    if (start >= stop) return;
    if (spec.kind === 'big') {
      yield* bigLogChunks(spec, this.layout(jobId, spec), start, stop);
      return;
    }
    const bytes = this.small(jobId, spec).bytes;
    for (let at = start; at < stop; at += 65_536) yield bytes.subarray(at, Math.min(stop, at + 65_536));
  }

  *cleanLines(jobId: string): Generator<string> {
    if (!this.logExists(jobId)) return;
    const spec = this.spec(jobId);
    if (spec.kind === 'big') yield* bigLogCleanLines(spec, this.layout(jobId, spec));
    else yield* this.small(jobId, spec).clean;
  }

  headerTimes(jobId: string): readonly number[] {
    const spec = this.spec(jobId);
    if (spec.kind !== 'big') return this.small(jobId, spec).headerTimes;
    const layout = this.layout(jobId, spec);
    return [...layout.head.headerTimes, ...layout.tail.headerTimes];
  }
}
