// Dates as reports show them: UTC, short, from the ISO 8601 times Buildkite gives.

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** `Nov 20` (UTC), or '' for a time that does not parse. */
export function shortDay(iso: string): string {
  const date = new Date(iso);
  if (iso === '' || Number.isNaN(date.getTime())) return '';
  return `${MONTHS[date.getUTCMonth()]} ${date.getUTCDate()}`;
}

/** `Nov 20 14:30 UTC`, or '' for a time that does not parse. */
export function shortTime(iso: string): string {
  const day = shortDay(iso);
  if (day === '') return '';
  const date = new Date(iso);
  const hh = String(date.getUTCHours()).padStart(2, '0');
  const mm = String(date.getUTCMinutes()).padStart(2, '0');
  return `${day} ${hh}:${mm} UTC`;
}

/** `2026-11-20` (UTC), or '' for a time that does not parse. */
export function isoDay(iso: string): string {
  const date = new Date(iso);
  if (iso === '' || Number.isNaN(date.getTime())) return '';
  return date.toISOString().slice(0, 10);
}
