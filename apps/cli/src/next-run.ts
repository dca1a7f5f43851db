/** What the next run of an installation depends on. */
export interface NextRunInput {
  status: 'active' | 'uninstalled';
  /** When the scheduler has planned the next run, once it has a schedule for the installation. */
  scheduledAt?: Date;
  now: Date;
}

/**
 * When an installation syncs next, by the runner's own rule (`isDue` / `nextRunOf` in
 * @tributary/runner): as the scheduler planned it, else now, because an installation the scheduler
 * has not planned yet (a new one, or one only ever synced by hand) is due at the runner's next tick.
 * An uninstalled app never syncs again (null). The one place the CLI decides it, so that `apps` and
 * `doctor` agree with each other and with the runner.
 */
export function nextRunAt(input: NextRunInput): Date | null {
  if (input.status !== 'active') return null;
  return input.scheduledAt ?? input.now;
}
