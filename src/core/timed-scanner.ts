// The log scanner with a time budget. Matching is synchronous, so the budget is checked between
// chunks: it stops a pattern that is slow on every line (polynomial backtracking), not one that
// never returns on a single line (exponential backtracking), which no check between chunks can
// interrupt; lines are matched in bounded pieces, which keeps most such cases finite. On overrun
// the chunk is timed per pattern to name the culprit.

import type { CompiledPattern } from './patterns.ts';
import { LogScanner, type LineVisitor, type PatternHit } from './scan-log.ts';

/** A pattern too slow to finish on a log: a configuration problem, so the run stops. */
export class SlowPatternError extends Error {
  override readonly name = 'SlowPatternError';
}

/** Milliseconds from any fixed origin (`performance.now` at the edge; a fake clock in tests). */
export type Stopwatch = () => number;

export class TimedScanner {
  private readonly scanner: LogScanner;
  private spentMs = 0;

  constructor(
    private readonly patterns: readonly CompiledPattern[],
    private readonly budgetMs: number,
    private readonly now: Stopwatch,
    visitor: LineVisitor | null = null,
  ) {
    this.scanner = new LogScanner(patterns, visitor);
  }

  get bytes(): number {
    return this.scanner.bytesScanned;
  }

  push(chunk: Uint8Array): void {
    const t0 = this.now();
    this.scanner.push(chunk);
    this.spentMs += this.now() - t0;
    if (this.spentMs > this.budgetMs) this.overrun(chunk);
  }

  /** One hit (or null) per pattern, in the order of the patterns. */
  end(): (PatternHit | null)[] {
    const t0 = this.now();
    const hits = this.scanner.end();
    this.spentMs += this.now() - t0;
    if (this.spentMs > this.budgetMs) this.overrun(new Uint8Array(0));
    return hits;
  }

  private overrun(chunk: Uint8Array): never {
    let slowest = this.patterns[0]!;
    let slowestMs = -1;
    if (this.patterns.length > 1 && chunk.length > 0) {
      for (const pattern of this.patterns) {
        const probe = new LogScanner([pattern]);
        const t0 = this.now();
        probe.push(chunk);
        probe.end();
        const ms = this.now() - t0;
        if (ms > slowestMs) [slowest, slowestMs] = [pattern, ms];
      }
    }
    const budget =
      this.budgetMs >= 1000 ? `${Math.round(this.budgetMs / 100) / 10} s` : `${Math.round(this.budgetMs)} ms`;
    throw new SlowPatternError(
      `matching one log took more than ${budget}, most of it in pattern ${JSON.stringify(slowest.source)}: ` +
        'the regex likely backtracks catastrophically; make it more specific ' +
        '(avoid nested or adjacent unbounded repeats such as (a+)+ or .*.*)',
    );
  }
}
