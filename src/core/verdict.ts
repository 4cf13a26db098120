// The verdict on one failure signature (a pattern's matches over the scanned window), from its
// evidence alone. The rules, in order, first match wins:
// 1. noise: more than half of the matched attempts passed. The text shows up in green jobs too,
//    so it is no failure signature. Only attempts that did not pass count for the rules below.
// 2. flaky: a matched attempt was retried and its retry chain ended passed (failed, then passed
//    on the same commit).
// 3. broken-main: it fails on the baseline branch too, so no pull request caused it.
// 4. flaky: it failed in at least `minPrs` distinct pull requests: unrelated changes hit it.
// 5. single: seen in one pull request (or none) only; it could be that change's own breakage.

export const VERDICTS = ['noise', 'flaky', 'broken-main', 'single'] as const;
export type Verdict = (typeof VERDICTS)[number];

export interface Evidence {
  /** Matched attempts, passed or not, baseline included. */
  readonly jobs: number;
  /** Of those, attempts whose state is `passed`. */
  readonly passedJobs: number;
  /** Distinct PRs with a matched attempt that did not pass. */
  readonly prs: number;
  /** Matched attempts that did not pass, were retried, and whose retry chain ended passed. */
  readonly passedOnRetry: number;
  /** Distinct baseline-branch builds with a matched attempt that did not pass. */
  readonly mainBuilds: number;
}

export interface Judgement {
  readonly verdict: Verdict;
  /** The facts behind the verdict in one sentence, never blame. */
  readonly reason: string;
}

export interface VerdictRules {
  /** Distinct PRs from which a failure counts as flaky (rule 4). */
  readonly minPrs: number;
  /** The baseline branch's name, or null when baseline evidence is off. */
  readonly baselineBranch: string | null;
}

export function judge(evidence: Evidence, rules: VerdictRules): Judgement {
  const { jobs, passedJobs, prs, passedOnRetry, mainBuilds } = evidence;
  if (passedJobs * 2 > jobs) {
    return {
      verdict: 'noise',
      reason: `${passedJobs} of ${count(jobs, 'matched attempt')} passed: the text also shows up in green jobs`,
    };
  }
  const main = rules.baselineBranch === null ? '' : ` and on ${rules.baselineBranch} ${times(mainBuilds)}`;
  const facts = `seen in ${count(prs, 'PR')}${main}; passed on retry ${times(passedOnRetry)}`;
  if (passedOnRetry >= 1) return { verdict: 'flaky', reason: facts };
  if (mainBuilds >= 1) return { verdict: 'broken-main', reason: facts };
  if (prs >= rules.minPrs) return { verdict: 'flaky', reason: facts };
  return { verdict: 'single', reason: facts };
}

function count(n: number, noun: string): string {
  return `${n} ${noun}${n === 1 ? '' : 's'}`;
}

function times(n: number): string {
  return n === 1 ? '1 time' : `${n} times`;
}
