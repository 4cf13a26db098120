// Test and benchmark hooks read from the environment, not user settings: they make a
// fault-injection run fast without changing what a user can configure.

import { DEFAULT_RETRY, type HttpOptions } from '../buildkite/http.ts';

/**
 * FLAKE_CHECKER_RETRY_BASE_MS sets the first backoff, so a fault-injection run does not wait
 * seconds per retry; FLAKE_CHECKER_RETRIES sets how many times a failed request is tried again.
 */
export function retryOverridesFromEnv(env: NodeJS.ProcessEnv): Partial<HttpOptions> | undefined {
  const base = envNumber(env.FLAKE_CHECKER_RETRY_BASE_MS);
  const retries = envNumber(env.FLAKE_CHECKER_RETRIES);
  if (base === null && retries === null) return undefined;
  return {
    retry: {
      ...DEFAULT_RETRY,
      ...(base === null ? {} : { baseDelayMs: base, maxDelayMs: base * 16 }),
      ...(retries === null ? {} : { retries: Math.min(20, Math.floor(retries)) }),
    },
  };
}

function envNumber(text: string | undefined): number | null {
  const n = Number(text);
  return text && Number.isFinite(n) && n >= 0 ? n : null;
}
