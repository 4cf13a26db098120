// The tracker's state in a JSON file, for the CLI (`--tracker-file FILE`): the same merge as
// the issue, with a file instead of an issue body. I/O lives here only.

import { readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { mergeRun, parseState, type TrackerRun, type TrackerState } from './state.ts';

export interface StoredTracker {
  /** The saved state; null when the file does not exist or cannot be read as one. */
  readonly state: TrackerState | null;
  /** Why an existing file could not be used, or null. */
  readonly problem: string | null;
}

/** Reads the state from `path`. A missing file is a first run; a broken one is a problem. */
export function readTrackerFile(path: string): StoredTracker {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error: unknown) {
    if (isMissing(error)) return { state: null, problem: null };
    throw error;
  }
  try {
    return { state: parseState(JSON.parse(text)), problem: null };
  } catch (error: unknown) {
    const reason = error instanceof Error ? error.message : String(error);
    return { state: null, problem: `${path} holds no usable tracker state: ${reason}` };
  }
}

/**
 * Writes the state to `path` atomically: a temporary file in the same directory, renamed over
 * the old one, so a run killed mid-write leaves the previous state, never half of one.
 */
export function writeTrackerFile(path: string, state: TrackerState): void {
  const temp = join(dirname(path), `.${basename(path)}.${process.pid}.${Date.now()}.tmp`);
  try {
    writeFileSync(temp, `${JSON.stringify(state, null, 2)}\n`);
    renameSync(temp, path);
  } catch (error: unknown) {
    rmSync(temp, { force: true });
    throw error;
  }
}

/**
 * One run against the file: read, merge, write. A file that cannot be read as a state is
 * reported, kept beside it as `FILE.broken`, and replaced by the state of this run alone.
 */
export function updateTrackerFile(path: string, run: TrackerRun): StoredTracker & { readonly state: TrackerState } {
  const previous = readTrackerFile(path);
  const state = mergeRun(previous.state, run);
  if (previous.problem !== null) renameSync(path, `${path}.broken`);
  writeTrackerFile(path, state);
  return { state, problem: previous.problem === null ? null : `${previous.problem} (kept as ${path}.broken)` };
}

function isMissing(error: unknown): boolean {
  return typeof error === 'object' && error !== null && 'code' in error && error.code === 'ENOENT';
}
