import type { Job, Logger, RunLockResult, RunRecord } from '@tributary/core';
import { appTableOf } from './app-tables.js';
import type { Database } from './database.js';
import type { InstallationReads } from './installation-reads.js';
import type { Jobs } from './jobs.js';
import type { RunLog } from './run-log.js';
import type { Runs } from './runs.js';
import type { Scheduling } from './scheduling.js';

// Runs and jobs whose process died: found and closed under the installation's run lock, whose
// holder is the only live process that may be running them.

/** Marks abandoned runs and interrupted jobs, and runs work under the run lock after doing so. */
export class RunRecovery {
  constructor(
    private readonly db: Database,
    private readonly logger: Logger,
    private readonly runs: Runs,
    private readonly runLog: RunLog,
    private readonly installationReads: InstallationReads,
    private readonly scheduling: Scheduling,
    private readonly jobs: Jobs,
  ) {}

  withRunLock<T>(installationId: string, work: () => Promise<T>): Promise<RunLockResult<T>> {
    return this.scheduling.withRunLock(installationId, async () => {
      // One look for both (almost always nothing), rather than a round trip each on every job.
      const left = await this.scheduling.leftRunning(installationId).catch((error: unknown) => {
        this.logger.warn({ installationId, error: (error as Error).message }, 'could not look for runs left running; the run goes ahead');
        return { runs: true, jobs: true };
      });
      // Whoever takes the lock next finds out about a run whose process died holding it.
      if (left.runs) {
        await this.abandonLocked(installationId, new Date()).catch((error: unknown) => {
          this.logger.warn({ installationId, error: (error as Error).message }, 'could not mark abandoned runs; the run goes ahead');
        });
      }
      // Likewise a job left running: no live process can be running it now.
      if (left.jobs) {
        await this.jobs.interruptLocked(installationId, new Date()).catch((error: unknown) => {
          this.logger.warn({ installationId, error: (error as Error).message }, 'could not mark interrupted jobs; the run goes ahead');
        });
      }
      return work();
    });
  }

  async markAbandonedRuns(at: Date, installationIds?: readonly string[]): Promise<RunRecord[]> {
    const running = await this.runs.running(installationIds);
    const marked: string[] = [];
    for (const installationId of new Set(running.map((r) => r.installationId))) {
      // Taking the run lock proves that no live process runs it; a held lock means the run is alive.
      const locked = await this.scheduling.withRunLock(installationId, () => this.abandonLocked(installationId, at));
      if (locked.acquired) marked.push(...locked.value);
    }
    const records: RunRecord[] = [];
    for (const id of marked) {
      const record = await this.runLog.get(id);
      if (record) records.push(record);
    }
    return records;
  }

  /** With the installation's run lock held: every run of it still marked running is dead. */
  private async abandonLocked(installationId: string, at: Date): Promise<string[]> {
    const running = await this.runs.running([installationId]);
    if (running.length === 0) return [];
    // Only the tables matter here: an installation whose token cannot be opened is closed all the same.
    const installation = await this.installationReads.appModel(installationId);
    const model = installation?.dataModel;
    const spec = model?.tables.find((t) => t.name === model.primaryTable);
    const primary = installation && model && spec ? appTableOf(this.db.dialect, installation.app, model, spec).table.sql : undefined;
    const marked: string[] = [];
    for (const run of running) {
      if (await this.runs.abandon(run.id, installationId, primary, at)) marked.push(run.id);
    }
    if (marked.length > 0) this.logger.warn({ installationId, runs: marked }, 'runs whose process died marked abandoned');
    return marked;
  }

  async markInterruptedJobs(at: Date, installationIds?: readonly string[]): Promise<Job[]> {
    const marked: Job[] = [];
    for (const installationId of await this.jobs.runningInstallations(installationIds)) {
      // A held lock means a live process runs the job; taking it proves that none does.
      const locked = await this.scheduling.withRunLock(installationId, () => this.jobs.interruptLocked(installationId, at));
      if (locked.acquired) marked.push(...locked.value);
    }
    return marked;
  }
}
