// Where the verdict scenarios (VERDICT_SCENARIOS) are planted: which builds, of which PR or
// branch, and which attempts of which step print which text. Planned from the seed over builds
// that carry no flake; generate-builds.ts makes those builds again, to order (kind, PR, step,
// attempt outcomes), and everything else about them stays random. What each scenario's evidence
// comes to under the default query is in the README ("Planted flakes").

import type { FlakeQuery } from './expected-flakes.ts';
import { mixSeed, Rng } from './prng.ts';
import { VERDICT_SCENARIOS, type VerdictScenarioId } from './signatures.ts';
import { V1_OTHERS_LABELS } from './steps.ts';

/** The default query's window: in-window scenario builds are among the newest this many. */
export const SCENARIO_WINDOW = 200;

/**
 * The query under which each scenario gets its verdict: the CLI's and the action's defaults
 * (with the default dataset's default branch) and the scenarios' texts as literal patterns.
 */
export const SCENARIO_QUERY: FlakeQuery = {
  maxBuilds: SCENARIO_WINDOW,
  branchRegex: '^pull/|^pr/',
  step: 'v1 Test others',
  patterns: Object.values(VERDICT_SCENARIOS).map((s) => s.text),
  regex: false,
  baselineBranch: 'main',
  minPrs: 2,
};

/**
 * A dataset of fewer builds gets no scenarios: fifteen planned builds would crowd out the random
 * ones, and the small datasets of tests stay as they were.
 */
const MIN_BUILDS = 100;

/** A step of STEPS close to the default step in name, but outside it: where the decoy is planted. */
export const DECOY_STEP_LABEL = ':nvidia: V1 Test e2e + engine';

export interface PlannedAttempt {
  readonly outcome: 'passed' | 'failed';
  /** The scenario whose text this attempt's log prints, or null. */
  readonly scenario: VerdictScenarioId | null;
}

export interface PlannedBuild {
  /**
   * `pr`: a PR build (`pull_request.id`); `pr-branch`: a build of branch `pr/<id>` started by
   * hand, without `pull_request`; `default`: a build of the default branch.
   */
  readonly kind: 'pr' | 'pr-branch' | 'default';
  readonly pr: string | null;
  /** The step whose attempts are planned (a spelling of "V1 Test others", or the decoy step). */
  readonly label: string;
  /** Its attempts in order; every one but the last is retried. */
  readonly attempts: readonly PlannedAttempt[];
}

/**
 * Planned builds by index (0 is the newest build), on indices `free` allows; empty when `builds`
 * is too small, or too few indices are free in the window.
 */
export function planScenarios(
  seed: number,
  builds: number,
  free: (index: number) => boolean,
): ReadonlyMap<number, PlannedBuild> {
  const plan = new Map<number, PlannedBuild>();
  if (builds < MIN_BUILDS) return plan;
  const rng = new Rng(mixSeed(seed, 31));
  const [a, b, c, d, e, f, g, h, i, j] = distinctPrIds(rng, 10);
  let spelling = 0;
  const v1 = (kind: PlannedBuild['kind'], pr: string | null, attempts: PlannedAttempt[]): PlannedBuild => ({
    kind,
    pr,
    label: V1_OTHERS_LABELS[spelling++ % V1_OTHERS_LABELS.length] as string,
    attempts,
  });
  const failed = (scenario: VerdictScenarioId | null): PlannedAttempt => ({ outcome: 'failed', scenario });
  const passed = (scenario: VerdictScenarioId | null): PlannedAttempt => ({ outcome: 'passed', scenario });
  const decoy = (pr: string): PlannedBuild => ({
    kind: 'pr',
    pr,
    label: DECOY_STEP_LABEL,
    attempts: [failed('singlePr')],
  });
  const inWindow: PlannedBuild[] = [
    v1('pr', a, [failed('sharedPrs')]),
    v1('pr', a, [failed('sharedPrs')]),
    v1('pr', b, [failed('sharedPrs')]),
    v1('pr-branch', c, [failed('sharedPrs')]),
    v1('pr', e, [failed('singlePr')]),
    v1('pr', e, [failed('singlePr')]),
    decoy(f),
    decoy(g),
    v1('default', null, [failed('onMain')]),
    // A green attempt on the default branch is never read as evidence, text or not.
    v1('default', null, [passed('onMain')]),
    v1('pr', h, [failed('onMain')]),
    v1('pr', i, [failed('retryPassed'), passed(null)]),
    v1('pr', j, [failed('retryFailed'), failed('retryFailed')]),
  ];
  // Older builds of one scenario PR and of a PR seen nowhere else: outside the window.
  const beyond = [v1('pr', a, [failed('sharedPrs')]), v1('pr', d, [failed('sharedPrs')])];
  // The two newest builds are still running.
  const window = range(2, Math.min(builds, SCENARIO_WINDOW)).filter(free);
  const older = range(SCENARIO_WINDOW, builds).filter(free);
  if (window.length < inWindow.length) return plan;
  place(plan, rng, inWindow, window);
  if (builds >= SCENARIO_WINDOW + 20 && older.length >= beyond.length) place(plan, rng, beyond, older);
  return plan;
}

function range(from: number, to: number): number[] {
  return Array.from({ length: Math.max(0, to - from) }, (_, k) => from + k);
}

/** PR numbers in the range random PR builds use, all different. */
/** Ten distinct PR numbers: one per role in the scenarios. */
function distinctPrIds(
  rng: Rng,
  count: 10,
): [string, string, string, string, string, string, string, string, string, string] {
  const ids = new Set<string>();
  while (ids.size < count) ids.add(String(rng.int(21_000, 26_999)));
  return [...ids] as [string, string, string, string, string, string, string, string, string, string];
}

/** Puts `builds` at distinct random indices of `slots` (shuffled in place). */
function place(plan: Map<number, PlannedBuild>, rng: Rng, builds: readonly PlannedBuild[], slots: number[]): void {
  builds.forEach((build, k) => {
    const pick = k + rng.int(0, slots.length - 1 - k);
    [slots[k], slots[pick]] = [slots[pick] as number, slots[k] as number];
    plan.set(slots[k] as number, build);
  });
}
