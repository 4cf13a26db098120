// The scan's progress in the action log: a line per page of builds, a line per rate-limit wait
// longer than a few seconds, and a line on the logs at least every 10 seconds.

import type { ScanProgress } from '../core/types.ts';
import {
  describeBuilds,
  describeLogs,
  describeWait,
  nextProgress,
  NO_PROGRESS,
  secondsLeft,
  type ProgressState,
} from '../report/progress.ts';

/** Waits shorter than this are not worth a line. */
const WAIT_WORTH_A_LINE_S = 3;
const LOGS_EVERY_MS = 10_000;

export class ProgressLog {
  private state: ProgressState = NO_PROGRESS;
  private readonly timer: NodeJS.Timeout;

  constructor(
    private readonly info: (line: string) => void,
    private readonly now: () => number = Date.now,
  ) {
    this.timer = setInterval(() => this.info(describeLogs(this.state)), LOGS_EVERY_MS);
    this.timer.unref();
  }

  update(event: ScanProgress): void {
    this.state = nextProgress(this.state, event);
    if (event.kind === 'builds') this.info(describeBuilds(event));
    if (event.kind === 'waiting' && secondsLeft(event.untilMs, this.now()) >= WAIT_WORTH_A_LINE_S) {
      const line = describeWait(event, this.now());
      this.info(`${line[0]!.toUpperCase()}${line.slice(1)}`);
    }
  }

  /** Stops the timer and logs where the logs ended up. */
  stop(): void {
    clearInterval(this.timer);
    if (this.state.logs) this.info(describeLogs(this.state));
  }
}
