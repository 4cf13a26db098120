// One self-overwriting status line on a terminal's stderr (stdout stays the report's). Redrawn
// as events arrive (at most ten times a second) and every second regardless, so a rate-limit
// wait counts down instead of freezing.

import type { ScanProgress } from '../core/types.ts';
import { describeStatus, nextProgress, NO_PROGRESS, type ProgressState } from '../report/progress.ts';

export class TtyProgress {
  private state: ProgressState = NO_PROGRESS;
  private lastDraw = 0;
  private readonly timer: NodeJS.Timeout;

  constructor(
    private readonly stream: NodeJS.WriteStream,
    private readonly now: () => number = Date.now,
  ) {
    this.timer = setInterval(() => this.draw(), 1000);
    this.timer.unref();
  }

  update(event: ScanProgress): void {
    this.state = nextProgress(this.state, event);
    if (event.kind !== 'logs' || this.now() - this.lastDraw >= 100) this.draw();
  }

  clear(): void {
    clearInterval(this.timer);
    this.stream.write('\r\x1b[2K');
  }

  private draw(): void {
    this.lastDraw = this.now();
    const line = describeStatus(this.state, this.lastDraw);
    // A line wider than the terminal wraps, and `\r` would then redraw only its last row.
    const width = this.stream.columns > 1 ? this.stream.columns - 1 : 200;
    this.stream.write(`\r\x1b[2K${line.length > width ? `${line.slice(0, width - 1)}…` : line}`);
  }
}
