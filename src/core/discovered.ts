// Discovery's results as report data: one record per (job, signature), like a pattern's match
// record plus what the signature is, and per signature a cluster with the same evidence and
// verdict as a pattern's flake (flakes.ts), ranked by spread.

import type { BuildkiteBuild, BuildkiteJob } from './build.ts';
import type { Failure, SignatureKind } from './discover/extract.ts';
import { collectFlakes, toOccurrence, type Flake } from './flakes.ts';
import { toMatchRecord } from './select.ts';
import { makeSnippet } from './snippet.ts';
import type { MatchRecord } from './types.ts';
import type { VerdictRules } from './verdict.ts';

/** A discovered failure in one job: a match record whose `pattern` is the signature's regex. */
export interface DiscoveredRecord extends MatchRecord {
  /** The normalized failure text, the same for the same failure in every build. */
  readonly signature: string;
  readonly kind: SignatureKind;
  readonly test_id: string | null;
  /** The exception class, or null. */
  readonly exception: string | null;
}

/** A signature across the window: a flake (its `pattern` the regex) and what it is. */
export interface Cluster extends Flake {
  readonly signature: string;
  readonly kind: SignatureKind;
  readonly test_id: string | null;
  readonly exception: string | null;
  /** The first record of the signature (newest build first): an example with its links. */
  readonly example: Pick<MatchRecord, 'build_number' | 'web_url' | 'job_url' | 'step_label' | 'line' | 'snippet'>;
}

function pickExample(r: DiscoveredRecord): Cluster['example'] {
  return {
    build_number: r.build_number,
    web_url: r.web_url,
    job_url: r.job_url,
    step_label: r.step_label,
    line: r.line,
    snippet: r.snippet,
  };
}

/** The record of failure `f` in `job`. */
export function toDiscoveredRecord(build: BuildkiteBuild, job: BuildkiteJob, f: Failure): DiscoveredRecord {
  const snippet = makeSnippet(f.text, 0, f.text.length);
  return {
    ...toMatchRecord(build, job, f.pattern, { line: f.line, snippet, count: f.count }),
    signature: f.signature,
    kind: f.kind,
    test_id: f.testId,
    exception: f.exception,
  };
}

/** A discovered failure with where it was found, for the evidence. */
export interface DiscoveredFailure {
  readonly build: BuildkiteBuild;
  readonly job: BuildkiteJob;
  readonly failure: Failure;
  /** Read as evidence only (a baseline build outside the branch filter). */
  readonly evidenceOnly: boolean;
}

/**
 * The clusters of the window's discovered failures, ranked like flakes (distinct PRs, then
 * builds); `records` gives each its example (the first result record of its signature).
 */
export function clusterDiscovered(
  found: readonly DiscoveredFailure[],
  records: readonly DiscoveredRecord[],
  rules: VerdictRules,
): Cluster[] {
  const bySignature = new Map<string, Failure>();
  for (const { failure } of found) if (!bySignature.has(failure.signature)) bySignature.set(failure.signature, failure);
  // One pattern per signature: equal signatures are rendered into equal regexes.
  const signatureOf = new Map([...bySignature].map(([signature, f]) => [f.pattern, signature]));
  const occurrences = found.map(({ build, job, failure }) =>
    toOccurrence(build, job, bySignature.get(failure.signature)!.pattern, rules.baselineBranch),
  );
  const flakes = collectFlakes(occurrences, [], rules);
  return flakes.flatMap((flake) => {
    const signature = signatureOf.get(flake.pattern);
    const first = signature === undefined ? undefined : bySignature.get(signature);
    if (signature === undefined || first === undefined) return [];
    const example = records.find((r) => r.signature === signature) ?? null;
    const fallback = found.find((d) => d.failure.signature === signature)!;
    return [
      {
        ...flake,
        signature,
        kind: first.kind,
        test_id: first.testId,
        exception: first.exception,
        example: pickExample(example ?? toDiscoveredRecord(fallback.build, fallback.job, fallback.failure)),
      },
    ];
  });
}
