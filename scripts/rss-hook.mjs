// Preloaded into a child node process by the benchmark (NODE_OPTIONS=--import=<this file>): on
// exit, writes the process's peak resident set size in KiB to $FLAKE_CHECKER_RSS_FILE.
//
// Not process.resourceUsage().maxRSS alone: on Linux, getrusage keeps the high-water mark of
// the image a process replaced by exec, so a child forked from a large parent (the benchmark,
// holding the simulator's logs) reports the parent's size. VmHWM in /proc/self/status belongs
// to this process image only. Where /proc is missing, the largest of samples of
// process.memoryUsage.rss() taken every 5 ms stands in.

import { readFileSync, writeFileSync } from 'node:fs';
import { setInterval } from 'node:timers';

const file = process.env.FLAKE_CHECKER_RSS_FILE;

function highWaterKiB() {
  try {
    const m = /^VmHWM:\s+(\d+) kB/m.exec(readFileSync('/proc/self/status', 'utf8'));
    if (m) return { kib: Number(m[1]), method: 'VmHWM' };
  } catch {
    // Not Linux: use the samples.
  }
  return null;
}

if (file) {
  let sampled = process.memoryUsage.rss();
  const sample = () => {
    sampled = Math.max(sampled, process.memoryUsage.rss());
  };
  const timer = highWaterKiB() ? null : setInterval(sample, 5);
  timer?.unref();
  process.on('exit', () => {
    let peak = highWaterKiB();
    if (!peak) {
      sample();
      peak = { kib: Math.round(sampled / 1024), method: 'sampled' };
    }
    writeFileSync(file, `${peak.kib} ${peak.method}`);
  });
}
