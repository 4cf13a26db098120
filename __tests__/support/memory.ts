// Measuring the memory a piece of work takes while it runs, not only what is left after it.

/**
 * The highest resident set size reached while `work` runs, less the size before it, sampled
 * every 5 ms (the work must yield to the event loop, as any streaming does).
 */
export async function peakRssGrowth<T>(work: () => Promise<T>): Promise<{ result: T; growth: number }> {
  const before = process.memoryUsage.rss();
  let peak = before;
  const timer = setInterval(() => {
    peak = Math.max(peak, process.memoryUsage.rss());
  }, 5);
  try {
    const result = await work();
    peak = Math.max(peak, process.memoryUsage.rss());
    return { result, growth: peak - before };
  } finally {
    clearInterval(timer);
  }
}
