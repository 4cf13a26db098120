// The data the pure core produces: match records, scan statistics and the report.

import type { Cluster, DiscoveredRecord } from './discovered.ts';
import type { Flake } from './flakes.ts';

/**
 * One record per (job, pattern) that matched. Field names are snake_case because this is the
 * public JSON shape (CLI `--json`, action output `matches`).
 */
export interface MatchRecord {
  readonly build_number: number;
  readonly branch: string;
  /** Build state. */
  readonly state: string;
  readonly step_label: string;
  readonly pattern: string;
  /** The first matching line, cleaned and trimmed; a window with `…` when long. */
  readonly snippet: string;
  /** Build URL. */
  readonly web_url: string;
  readonly job_id: string;
  readonly job_url: string;
  readonly job_state: string;
  /** 1-based line number of the first match in the cleaned log. */
  readonly line: number;
  /** How many lines of the log matched the pattern. */
  readonly count: number;
  /** This attempt was superseded by a retry. */
  readonly retried: boolean;
  /** PR number as a string, or null for a non-PR build. */
  readonly pull_request: string | null;
  /** Build creation time (ISO 8601). */
  readonly created_at: string;
}

/** A log the scan selected that Buildkite does not have (404: expired or never written). */
export interface MissingLog {
  readonly build_number: number;
  readonly job_id: string;
  readonly step_label: string;
  readonly job_url: string;
}

/** A log the scan selected but could not read to the end. */
export interface LogFailure {
  readonly build_number: number;
  readonly job_id: string;
  readonly step_label: string;
  readonly job_url: string;
  readonly reason: string;
}

export interface ScanStats {
  /** Builds examined (listed within the window). */
  readonly builds_scanned: number;
  /** Builds that passed the branch filter. */
  readonly builds_matched_branch: number;
  /** Jobs selected by type, start and step substring (and job states when set). */
  readonly jobs_selected: number;
  /** Logs read to the end and scanned. */
  readonly jobs_scanned: number;
  /** Logs that answered 404 (expired or never written). */
  readonly logs_missing: number;
  /** Logs that could not be read after retries. */
  readonly logs_failed: number;
  /** Logs served from the local cache. */
  readonly logs_from_cache: number;
  /** Bytes of log text scanned (after transfer decoding). */
  readonly bytes_scanned: number;
  /** HTTP requests sent to Buildkite, retries included. */
  readonly requests: number;
  /** Responses that were 429. */
  readonly rate_limited: number;
  /** The oldest and newest `created_at` of the builds listed (ISO 8601; '' when none). */
  readonly window_start: string;
  readonly window_end: string;
  /**
   * Baseline-branch builds outside the branch filter, scanned as evidence only: their attempts
   * that did not pass were read, and their matches count in `flakes`, never in `matches`.
   */
  readonly baseline_builds: number;
  readonly baseline_jobs_selected: number;
  readonly baseline_jobs_scanned: number;
  readonly baseline_logs_failed: number;
}

/**
 * What a scan tells while it runs: each page of builds, each log read to the end (and every MB
 * read), and each wait for a rate-limit window to reset. Consumers choose how often to show it.
 */
export type ScanProgress =
  | { readonly kind: 'builds'; readonly listed: number; readonly matchedBranch: number; readonly selectedJobs: number }
  | {
      readonly kind: 'logs';
      readonly done: number;
      readonly total: number;
      readonly bytes: number;
      readonly matches: number;
    }
  | {
      readonly kind: 'waiting';
      /** When the wait ends (ms since the epoch). */
      readonly untilMs: number;
      readonly scope: 'org' | 'user';
      /** Requests per window, when Buildkite told. */
      readonly limit: number | null;
    };

export interface ScanReport {
  readonly matches: readonly MatchRecord[];
  /** Per pattern that matched: evidence and verdict, ranked by spread. */
  readonly flakes: readonly Flake[];
  /** Discover mode: one record per (job, signature) found without a pattern; else empty. */
  readonly discovered: readonly DiscoveredRecord[];
  /** Discover mode: per signature, its evidence, verdict and regex, ranked by spread. */
  readonly clusters: readonly Cluster[];
  /** The branch whose builds were baseline evidence, or null when that was off. */
  readonly baselineBranch: string | null;
  /** The pipeline's repository (Git URL), where its PR numbers point; null when unknown. */
  readonly repository: string | null;
  readonly stats: ScanStats;
  readonly failures: readonly LogFailure[];
  /** Selected logs that answered 404. */
  readonly missing: readonly MissingLog[];
  /**
   * Matches in the builds of the PR a comment is about that are older than the scanned window
   * (found by its branch): they tell the PR its own failures, and count nowhere else.
   */
  readonly pullRequestMatches: readonly MatchRecord[];
  /** Problems that did not change the result, such as a log cache that could not be written. */
  readonly warnings: readonly string[];
}
