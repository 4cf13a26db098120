// "Did you mean": the labels closest to what the user typed, by shared letter pairs.

/** Letter pairs of the lower-cased text, spaces and punctuation folded to one space. */
function pairs(text: string): Map<string, number> {
  const folded = ` ${text
    .toLowerCase()
    .replace(/[^\p{L}\p{N}]+/gu, ' ')
    .trim()} `;
  const out = new Map<string, number>();
  for (let i = 0; i + 1 < folded.length; i++) {
    const pair = folded.slice(i, i + 2);
    out.set(pair, (out.get(pair) ?? 0) + 1);
  }
  return out;
}

/** Sørensen-Dice similarity of two texts' letter pairs, from 0 (nothing shared) to 1. */
export function similarity(a: string, b: string): number {
  const x = pairs(a);
  const y = pairs(b);
  let shared = 0;
  let total = 0;
  for (const [pair, n] of x) {
    shared += Math.min(n, y.get(pair) ?? 0);
    total += n;
  }
  for (const n of y.values()) total += n;
  return total === 0 ? 0 : (2 * shared) / total;
}

/** Up to `max` of `labels` most like `text`, best first (ties in the labels' order). */
export function closestLabels(text: string, labels: Iterable<string>, max = 5): string[] {
  return [...new Set(labels)]
    .map((label, i) => ({ label, i, score: similarity(text, label) }))
    .sort((a, b) => b.score - a.score || a.i - b.i)
    .slice(0, max)
    .map((s) => s.label);
}
