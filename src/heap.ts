// Keeping the V8 heap small for a streaming workload. Shared by the CLI and the action.
//
// A scan keeps little alive (a few chunks per log in flight, the records), but it allocates
// hundreds of MB over its run: chunks, decoded blocks, compressed cache output. V8 grows the
// young generation whenever enough bytes survive its collections, up to two 16 MiB semi-spaces
// on a 64-bit Node, and keeps it at that size: about 30 MiB of resident memory that a scan has
// no use for, a fifth of the 160 MB budget (docs/benchmarks.md, "Memory").
//
// `--max-semi-space-size` would bound it, but V8 reads that flag only when the heap is created,
// and neither a bin script nor an action's `runs.main` can pass node flags. The growth factor,
// however, is read each time the young generation grows, so setting it to 1 at startup (before
// any growth) keeps the young generation at its initial size (1 MiB semi-spaces). Measured on
// Node 20 and 24: the 400 MB-log scenario peaks 20-35 MiB lower; see docs/benchmarks.md for the
// cost in speed.

import { setFlagsFromString } from 'node:v8';

/** The flag by which a user sets how the old generation grows. */
const OLD_CHOICE = /--heap[-_]growing[-_]percent/;

/** The flags by which a user takes control of the young generation's size (V8 takes `_` for `-`). */
const USER_CHOICE = /--(?:max|min)[-_]semi[-_]space[-_]size|--semi[-_]space[-_]growth[-_]factor/;

/**
 * Stops the young generation from growing, unless the user set its size through node's options
 * (NODE_OPTIONS or the command line), which then win. Call once, first thing.
 */
export function keepYoungGenerationSmall(
  execArgv: readonly string[] = process.execArgv,
  nodeOptions = process.env.NODE_OPTIONS ?? '',
): boolean {
  if (USER_CHOICE.test(nodeOptions) || execArgv.some((arg) => USER_CHOICE.test(arg))) return false;
  // The flag exists in the V8 of every Node this runs on (20.18+ and 24, checked by the tests);
  // V8 would print a complaint for an unknown flag but go on.
  setFlagsFromString('--semi-space-growth-factor=1');
  // The old generation, too, grows by a factor V8 reads at each full collection: a scan of
  // thousands of vLLM-sized builds promotes list-page garbage between two of them, and V8's
  // default lets the heap double. 1.25 keeps it near what is live (docs/benchmarks.md,
  // "vLLM-sized builds": 5000 builds peaked at 140-150 MiB without it, 106 MiB with it). A user's own choice wins.
  if (!OLD_CHOICE.test(nodeOptions) && !execArgv.some((arg) => OLD_CHOICE.test(arg)))
    setFlagsFromString('--heap-growing-percent=25');
  return true;
}
