import type { RunRecord, SavedFeedback, SummaryValue } from '@tributary/core';
import { withWorkspace } from './workspace.js';

/** A comment longer than this is cut, so that a line stays readable. */
const MAX_TEXT = 80;

function fieldValue(value: SummaryValue): string {
  if (typeof value !== 'string') return String(value);
  return JSON.stringify(value.length > MAX_TEXT ? `${value.slice(0, MAX_TEXT - 3)}...` : value);
}

/**
 * One saved record as the run log shows it, whatever its connector: the contact (or the record's
 * key when it has none), then its label and named fields, as in
 * `ann@example.com (NPS, score=4, comment="great mail")`.
 */
export function formatFeedback(feedback: SavedFeedback): string {
  const who = feedback.contact ?? (feedback.key === undefined ? '(no contact)' : `(no contact, record ${feedback.key})`);
  const parts: string[] = [];
  if (feedback.label) parts.push(feedback.label);
  for (const [name, value] of Object.entries(feedback.fields ?? {})) parts.push(`${name}=${fieldValue(value)}`);
  return parts.length > 0 ? `${who} (${parts.join(', ')})` : who;
}

/** The command that lists every customer a run saved. */
export function savedCustomersCommand(run: Pick<RunRecord, 'id' | 'workspace'>, after?: number): string {
  return `tributary logs --workspace ${run.workspace} --run ${run.id}${after === undefined ? '' : ` --after ${after}`}`;
}

/** A run as readable lines: when, how many, which customers with their feedback, what failed and why. */
export function formatRun(run: RunRecord, options: { maxCustomers?: number } = {}): string {
  const max = options.maxCustomers ?? 20;
  const duration = run.finishedAt
    ? `${((run.finishedAt.getTime() - run.startedAt.getTime()) / 1000).toFixed(1)}s`
    : run.status === 'abandoned'
      ? 'its process died'
      : 'running';
  const lines = [
    `${run.startedAt.toISOString()}  ${run.workspace}/${run.app}  ${run.status.toUpperCase()}  (${duration}, run ${run.id})`,
    `  responses: ${run.fetched} fetched, ${run.inserted} new, ${run.unchanged} already stored, ${run.rejected} rejected${run.duplicates ? `, ${run.duplicates} read twice in this run` : ''}`,
  ];
  if (run.reconciled) {
    lines.push(`  reconciliation pass: read ${run.reconciled.since} to ${run.reconciled.until} again`);
  }
  if (run.late !== undefined && (run.late > 0 || run.reconciled)) {
    lines.push(`  late responses found: ${run.late} (created before the previous run had read up to)`);
  }
  if (run.suppressed) lines.push(`  ${run.suppressed} record${run.suppressed === 1 ? '' : 's'} of forgotten customers skipped: not stored (tributary customers receipts lists the erasures)`);
  if (run.expired) lines.push(`  ${run.expired} record${run.expired === 1 ? '' : 's'} older than the retention period skipped: not stored`);
  if (run.withoutEmail) lines.push(`  ${run.withoutEmail} new response${run.withoutEmail === 1 ? '' : 's'} without a usable e-mail: stored, but linked to no customer`);
  // `maxCustomers: 0` leaves the customers out, for a view that lists them all below.
  if (run.saved.length > 0 && max > 0) {
    const listed = run.saved.slice(0, max).map(formatFeedback);
    const unlisted = run.savedTotal - listed.length;
    const more = unlisted > 0 ? `, … and ${unlisted} more (all of them: ${savedCustomersCommand(run)})` : '';
    lines.push(`  records saved: ${listed.join(', ')}${more}`);
  }
  const maxRejected = Math.max(max, 20);
  for (const rejected of run.rejectedRecords.slice(0, maxRejected)) {
    lines.push(`  rejected${rejected.sourceId ? ` #${rejected.sourceId}` : ''}: ${rejected.reason}`);
  }
  if (run.rejectedRecords.length > maxRejected) lines.push(`  … and ${run.rejectedRecords.length - maxRejected} more rejected`);
  for (const warning of run.warnings) lines.push(`  warning: ${withWorkspace(warning, run.workspace)}`);
  if (run.error) lines.push(`  error${run.errorCode ? ` [${run.errorCode}]` : ''}: ${withWorkspace(run.error, run.workspace)}`);
  return lines.join('\n');
}

/** A run as JSON for scripts. */
export function runToJson(run: RunRecord): Record<string, unknown> {
  return {
    ...run,
    startedAt: run.startedAt.toISOString(),
    finishedAt: run.finishedAt?.toISOString() ?? null,
    customers: [...new Set(run.saved.flatMap((s) => (s.contact === undefined ? [] : [s.contact])))].join(','),
  };
}
