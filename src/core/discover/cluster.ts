// Grouping the failures of many logs by signature: what a discovery scan reports, and the
// pattern of each group, to rank and judge with the same evidence as a pattern the user gave.

import type { Failure, SignatureKind } from './extract.ts';

/** One log's failures, with whatever the caller identifies the log by (a job, a build and job). */
export interface LogFailures<L> {
  readonly log: L;
  readonly failures: readonly Failure[];
}

/** A signature found in one log. */
export interface ClusterOccurrence<L> {
  readonly log: L;
  /** The first line that gave it, its number and text, and how many lines did. */
  readonly line: number;
  readonly text: string;
  readonly count: number;
}

export interface Cluster<L> {
  readonly signature: string;
  readonly kind: SignatureKind;
  /** The test id; for exceptions, the first test one was attached to (it is not part of the key). */
  readonly testId: string | null;
  readonly exception: string | null;
  /** Regex source matching the lines of every occurrence: feed it to the scanner as a pattern. */
  readonly pattern: string;
  /** One per log, in the order the logs were given. */
  readonly occurrences: readonly ClusterOccurrence<L>[];
  /** Lines over all logs. */
  readonly lines: number;
}

/**
 * The clusters of the failures of several logs, most widespread first: by logs, then lines,
 * then signature (so the order does not depend on the logs' order). The caller ranks by PRs
 * and builds, which only it knows, from `occurrences`.
 */
export function clusterFailures<L>(logs: Iterable<LogFailures<L>>): Cluster<L>[] {
  const bySignature = new Map<string, { first: Failure; testId: string | null; occurrences: ClusterOccurrence<L>[] }>();
  for (const { log, failures } of logs) {
    for (const f of failures) {
      const occurrence = { log, line: f.line, text: f.text, count: f.count };
      const cluster = bySignature.get(f.signature);
      if (cluster) {
        cluster.occurrences.push(occurrence);
        cluster.testId ??= f.testId;
      } else {
        bySignature.set(f.signature, { first: f, testId: f.testId, occurrences: [occurrence] });
      }
    }
  }
  return [...bySignature.values()]
    .map(({ first, testId, occurrences }) => ({
      signature: first.signature,
      kind: first.kind,
      testId,
      exception: first.exception,
      // Equal signatures have equal patterns: both are rendered from the same pieces.
      pattern: first.pattern,
      occurrences,
      lines: occurrences.reduce((n, o) => n + o.count, 0),
    }))
    .sort(
      (a, b) => b.occurrences.length - a.occurrences.length || b.lines - a.lines || compare(a.signature, b.signature),
    );
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
