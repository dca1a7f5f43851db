import { createHash } from 'node:crypto';
import { isTributaryError, silentLogger, type Logger, type ProfileStore, type ScheduleStore } from '@tributary/core';

/** What evaluating a workspace's profiles did. */
export interface WorkspaceEvaluation {
  workspace: string;
  /** The moment evaluated as of. */
  at: Date;
  /** False when another process had already claimed this moment (or a later one). */
  claimed: boolean;
  evaluated: number;
  entered: number;
  left: number;
  /** Profiles left out, with why. */
  skipped: { profile: string; code: string }[];
}

/** The periodic-task name under which a workspace's evaluation moments are claimed. */
export function evaluationTaskName(workspace: string): string {
  const name = `profiles:${workspace}`;
  return name.length <= 200 ? name : `profiles:#${createHash('sha256').update(workspace).digest('hex')}`;
}

// A profile that cannot be evaluated now for a reason the operator already sees elsewhere (its app
// was removed, a later evaluation was recorded meanwhile): skipped quietly, the others go on.
const EXPECTED = new Set(['PROFILE_EVALUATION_OUT_OF_ORDER', 'PROFILE_NOT_FOUND', 'APP_NOT_INSTALLED', 'APP_DATA_PURGED']);

/**
 * Evaluates and records every profile of a workspace as of `at`, once across every runner process:
 * the moment is claimed first (a claim succeeds only for a moment later than every one claimed
 * before), so two processes never record the same moment, and an older moment loses to a newer one.
 */
export async function evaluateWorkspaceProfiles(options: {
  store: Pick<ProfileStore, 'listProfiles' | 'evaluateProfile'> & Pick<ScheduleStore, 'claimPeriodicTask'>;
  workspace: string;
  at: Date;
  claimedAt?: Date;
  logger?: Logger;
}): Promise<WorkspaceEvaluation> {
  const { store, workspace, at } = options;
  const logger = options.logger ?? silentLogger();
  const result: WorkspaceEvaluation = { workspace, at, claimed: false, evaluated: 0, entered: 0, left: 0, skipped: [] };
  const profiles = await store.listProfiles(workspace);
  if (profiles.length === 0) return result;
  if (!(await store.claimPeriodicTask(evaluationTaskName(workspace), at, options.claimedAt ?? at))) return result;
  result.claimed = true;
  for (const profile of profiles) {
    try {
      const evaluation = await store.evaluateProfile(workspace, profile.name, { now: at, record: true });
      result.evaluated += 1;
      result.entered += evaluation.entered.length;
      result.left += evaluation.left.length;
    } catch (error) {
      const code = isTributaryError(error) ? error.code : 'INTERNAL';
      result.skipped.push({ profile: profile.name, code });
      const where = { workspace, profile: profile.name, code };
      if (EXPECTED.has(code)) logger.debug(where, 'profile not evaluated');
      else logger.warn({ ...where, error: (error as Error).message }, 'profile evaluation failed; the next one tries again');
    }
  }
  logger.info({ workspace, at: at.toISOString(), profiles: result.evaluated, entered: result.entered, left: result.left }, 'profiles evaluated');
  return result;
}
