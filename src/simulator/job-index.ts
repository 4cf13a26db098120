// Which build a job id belongs to, for datasets too large to keep a map of ids: each job is one
// float of a sorted array, its id's 32-bit hash above its build's index, 8 bytes a job (about
// 11 MB for 5000 vLLM-sized builds where a Map of ids would take well over 100 MB). A hash can
// collide, so a lookup yields candidate builds and the caller checks the build holds the id.

/** Build indices stay below this (2^21), so that hash and index share a float exactly. */
const INDEX_SPAN = 2 ** 21;

/** FNV-1a over the id's UTF-16 code units. */
function hash32(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

export class JobIndex {
  private keys = new Float64Array(1024);
  private size = 0;
  private sorted = true;

  /** Records that job `jobId` is in build `index`. */
  add(jobId: string, index: number): void {
    if (!Number.isInteger(index) || index < 0 || index >= INDEX_SPAN)
      throw new Error(`build index ${index} out of range`);
    if (this.size === this.keys.length) {
      const grown = new Float64Array(this.keys.length * 2);
      grown.set(this.keys);
      this.keys = grown;
    }
    this.keys[this.size++] = hash32(jobId) * INDEX_SPAN + index;
    this.sorted = false;
  }

  /** Jobs recorded (ids recorded twice count twice). */
  get count(): number {
    return this.size;
  }

  /** The builds that may hold `jobId`, in index order. */
  *candidates(jobId: string): Generator<number> {
    if (!this.sorted) {
      this.keys = this.keys.slice(0, this.size).sort();
      this.sorted = true;
    }
    const h = hash32(jobId);
    const lowest = h * INDEX_SPAN;
    let lo = 0;
    let hi = this.size;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if ((this.keys[mid] as number) < lowest) lo = mid + 1;
      else hi = mid;
    }
    let previous = -1;
    for (let i = lo; i < this.size; i++) {
      const key = this.keys[i] as number;
      if (Math.floor(key / INDEX_SPAN) !== h) return;
      const index = key % INDEX_SPAN;
      if (index !== previous) yield index;
      previous = index;
    }
  }
}
