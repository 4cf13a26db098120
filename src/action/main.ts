// The action's entry point (bundled to dist/index.js): inputs to Settings, the shared scan
// pipeline, then reporting: report file, outputs, job summary, PR comment. The one place that
// fails the step is run()'s catch; everything below throws.

import { readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as core from '@actions/core';
import { context } from '@actions/github';
import { retryOverridesFromEnv } from '../pipeline/env-overrides.ts';
import { scan } from '../pipeline/scan.ts';
import type { ScanReport } from '../core/types.ts';
import { toPrintable } from '../core/clean-line.ts';
import { flakesOfPullRequest } from '../core/flakes.ts';
import { describeLogFailures, describeScanDone, failingChecks } from '../report/messages.ts';
import { ProgressLog } from './progress-log.ts';
import { codeSpan } from '../report/escape.ts';
import { renderReport, renderRunFailure, renderTrackerLine } from '../report/render-markdown.ts';
import { describeSettings, parseSettings, settingsWarnings, type Settings } from '../settings.ts';
import { readInputs, type ActionInputs } from './inputs.ts';
import { setOutputs, writeReportFile } from './outputs.ts';
import {
  COMMENT_MAX_CHARS,
  commentMarker,
  createIssueComments,
  describeCommentError,
  syncComment,
} from './pr-comment.ts';
import { createGitHubClient, gitHubClientOverridesFromEnv, type GitHubClient } from './github-client.ts';
import { updateTrackerIssue } from './tracker-step.ts';
import { headBranches, resolvePullRequest } from './pull-request.ts';
import { keepYoungGenerationSmall } from '../heap.ts';

/** GitHub refuses a step summary over 1 MiB; the margin covers the byte-exact edge. */
const SUMMARY_MAX_BYTES = 1024 * 1024 - 1024;

async function run(): Promise<void> {
  const failure = await scanAndReport().catch(async (error: unknown) => {
    if (error instanceof Error && error.stack) core.debug(error.stack);
    const message = error instanceof Error ? error.message : String(error);
    await summarizeFailure(message);
    return message;
  });
  if (failure !== null) core.setFailed(failure);
}

/**
 * Settings, scan, report, outputs. Returns why the step fails although the scan completed
 * (fail-on-match, strict), or null; throws when the scan could not complete.
 */
async function scanAndReport(): Promise<string | null> {
  const inputs = readInputs(process.env, core.setSecret);
  const settings = parseSettings(inputs.raw, (path) => readFileSync(path), 'input');
  core.debug(`Settings: ${JSON.stringify(describeSettings(settings))}`);
  for (const warning of settingsWarnings(settings)) core.warning(toPrintable(warning));

  // The PR a comment will be about: its own builds are looked up beyond the window too.
  const pr = inputs.comment === 'off' ? null : resolvePullRequest(context.eventName, context.payload, inputs.prNumber);
  const report = await core.group(`Scan ${settings.org}/${settings.pipeline}`, async () => {
    const progress = new ProgressLog((line) => core.info(line));
    try {
      return await scan(settings, {
        progress: (event) => progress.update(event),
        pullRequest: pr === null ? undefined : { number: String(pr), branches: headBranches(context.payload, pr) },
        userAgent: 'flake-checker-action',
        http: retryOverridesFromEnv(process.env),
      });
    } finally {
      progress.stop();
    }
  });
  await core.group('Report', () => publish(report, settings, inputs, pr));
  return failingChecks(report, {
    matches: inputs.failOnMatch,
    unreadLogs: settings.strict,
    names: { matches: 'fail-on-match is true', unreadLogs: 'strict is true' },
  });
}

/**
 * Says in the job summary why the step failed, so a scheduled run's page explains itself
 * without opening the log. Best effort: a summary that cannot be written changes nothing.
 */
async function summarizeFailure(message: string): Promise<void> {
  if (!process.env.GITHUB_STEP_SUMMARY) return;
  try {
    await core.summary.addRaw(renderRunFailure(message), true).write();
  } catch {
    // The failure itself is reported by setFailed.
  }
}

async function publish(report: ScanReport, settings: Settings, inputs: ActionInputs, pr: number | null): Promise<void> {
  // One client for the tracker and the comment: GitHub's write pacing is per client.
  const github = inputs.githubToken
    ? createGitHubClient(inputs.githubToken, {
        userAgent: 'flake-checker-action',
        log: (line) => core.info(line),
        ...gitHubClientOverridesFromEnv(process.env),
      })
    : null;
  const tracker = await updateTrackerIssue(report, settings, inputs, github);
  const reportFile = writeReportFile(report, settings, process.env.RUNNER_TEMP || tmpdir(), tracker?.summary ?? null);
  const cut = setOutputs(report, reportFile, tracker?.issue ?? null, core.setOutput);
  if (cut) core.warning(cut);
  core.info(describeScanDone(report, reportFile));

  const { owner, repo } = context.repo;
  const summary = renderReport(report, settings, {
    maxBytes: SUMMARY_MAX_BYTES,
    fallbackRepositoryUrl: owner && repo ? `${context.serverUrl || 'https://github.com'}/${owner}/${repo}` : null,
    fullReportHint: `the \`report-file\` output (${codeSpan(reportFile)}) and the \`matches\` output`,
    footer: tracker ? renderTrackerLine(tracker.issue, tracker.outcome) : undefined,
  });
  if (process.env.GITHUB_STEP_SUMMARY) await core.summary.addRaw(summary, true).write();
  else core.info('GITHUB_STEP_SUMMARY is not set: no job summary written');

  if (report.failures.length > 0) core.warning(describeLogFailures(report.failures));
  for (const warning of report.warnings) core.warning(toPrintable(warning));
  await commentOnPullRequest(report, settings, inputs, pr, github);
}

/**
 * Keeps the sticky comment on the run's PR. Any refusal is a warning, never a failure: pull
 * requests from forks get a read-only token, and the summary and outputs are written already.
 */
async function commentOnPullRequest(
  report: ScanReport,
  settings: Settings,
  inputs: ActionInputs,
  pr: number | null,
  github: GitHubClient | null,
): Promise<void> {
  if (inputs.comment === 'off') return;
  if (pr === null) {
    core.info(`No pull request to comment on (event ${context.eventName ?? 'unknown'}, no pr-number)`);
    return;
  }
  try {
    if (github === null) throw new Error('github-token is empty');
    const { owner, repo } = context.repo;
    const runUrl = Number.isFinite(context.runId)
      ? `${context.serverUrl}/${owner}/${repo}/actions/runs/${context.runId}`
      : null;
    const where = runUrl ? `[this workflow run](${runUrl})` : 'this workflow run';
    const marker = commentMarker(settings);
    const serverUrl = context.serverUrl || 'https://github.com';
    const body = renderReport(report, settings, {
      // Bytes bound characters from above; the margin keeps clear of the edge.
      maxBytes: COMMENT_MAX_CHARS - 512,
      prefix: marker,
      pullRequest: String(pr),
      fallbackRepositoryUrl: owner && repo ? `${serverUrl}/${owner}/${repo}` : null,
      fullReportHint: `the job summary and the \`report-file\` output of ${where}`,
      // No timestamp: a rerun that finds the same matches leaves the comment untouched.
      footer: `<sub>Updated by ${where}; this comment is edited in place on every run.</sub>`,
    });
    const comments = createIssueComments(github, { owner, repo, issueNumber: pr });
    // A comment is about its PR: other PRs' matches alone never create one.
    const hasMatches =
      report.pullRequestMatches.length > 0 || flakesOfPullRequest(report.flakes, report.matches, String(pr)).length > 0;
    const outcome = await syncComment(comments, { mode: inputs.comment, hasMatches, marker, body });
    core.info(`PR #${pr}: comment ${outcome}`);
  } catch (error: unknown) {
    core.warning(
      `Could not comment on PR #${pr}: ${describeCommentError(error)} The job summary and outputs are written.`,
    );
  }
}

keepYoungGenerationSmall();
await run();
