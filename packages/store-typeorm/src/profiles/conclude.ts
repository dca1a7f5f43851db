import { randomUUID } from 'node:crypto';
import type { Logger, StreamedProfileEvaluation } from '@tributary/core';
import type { Database, Executor } from '../database.js';
import { storageFailure } from '../errors.js';
import { recordEvaluation } from './evaluations.js';
import { difference, type Membership, type Target } from './records.js';

// How an evaluation ends, streamed or not: its changes against the previous members, and, when it
// is recorded, the recording transaction with what the destinations queue in it.

/** A recorded evaluation, as the transaction that recorded it hands it on. */
export interface RecordedEvaluation {
  workspace: string;
  name: string;
  profileId: string;
  evaluationId: string;
  evaluatedAt: Date;
  entered: readonly string[];
  left: readonly string[];
  members: readonly string[];
}

/** Where an evaluation is recorded. */
export interface RecordingContext {
  db: Database;
  logger: Logger;
  /** Runs in the transaction that records an evaluation (destinations queue their batches there). */
  onRecorded?: ((tx: Executor, recorded: RecordedEvaluation) => Promise<void>) | undefined;
}

/** What an evaluation read, to conclude from. */
export interface EvaluationConclusion {
  workspace: string;
  name: string;
  target: Target;
  now: Date;
  emails: readonly string[];
  record: boolean;
  previousMembers?: Membership;
  /** Every member, even when `emails` was not kept (an export that asked for no changes). */
  memberCount: number;
  queryMs: number;
}

/**
 * Who entered and who left, measured against the previous members (given, or read in the record
 * transaction), and the recorded evaluation when `record`.
 */
export async function concludeEvaluation(context: RecordingContext, input: EvaluationConclusion): Promise<StreamedProfileEvaluation> {
  const { workspace, name, target, now, emails, memberCount } = input;
  const profileId = target.profile.id;
  const scope = {
    installationId: target.sources[0]!.installationId,
    installationIds: target.sources.map((s) => s.installationId),
    apps: target.sources.map((s) => s.app),
  };
  try {
    if (!input.record) {
      const { current, previous } = input.previousMembers ?? { current: new Set<string>() };
      return {
        profile: target.profile,
        ...scope,
        evaluatedAt: now,
        memberCount,
        entered: difference(emails, current),
        left: difference([...current], new Set(emails)),
        ...(previous ? { previousEvaluatedAt: previous.evaluatedAt } : {}),
      };
    }
    const evaluationId = randomUUID();
    const result = await context.db.transaction(async (tx) => {
      const recorded = await recordEvaluation(tx, context.db.dialect, {
        workspace,
        name,
        profileId,
        // The history keeps one installation per evaluation: the first app read.
        installationId: scope.installationId,
        evaluationId,
        evaluatedAt: now,
        emails,
      });
      await context.onRecorded?.(tx, { workspace, name, profileId, evaluationId, evaluatedAt: now, entered: recorded.entered, left: recorded.left, members: emails });
      return recorded;
    });
    context.logger.debug(
      {
        workspace,
        profile: name,
        apps: scope.apps,
        members: memberCount,
        entered: result.entered.length,
        left: result.left.length,
        queryMs: Math.round(input.queryMs),
      },
      'profile evaluated',
    );
    return {
      profile: { ...target.profile, lastEvaluation: { evaluatedAt: now, memberCount } },
      ...scope,
      evaluatedAt: now,
      evaluationId,
      memberCount,
      entered: result.entered,
      left: result.left,
      ...(result.previous ? { previousEvaluatedAt: result.previous.evaluatedAt } : {}),
    };
  } catch (error) {
    throw storageFailure(`record an evaluation of the profile "${name}"`, error);
  }
}
