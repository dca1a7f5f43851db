// Issue 3's benchmark: read N sandbox responses through the connector (HTTP, JSON, zod validation
// of every record), and report responses per second. Target: at least 30,000 responses/s.
import { closeAlertConnector } from '@tributary/connector-closealert';
import { silentLogger } from '@tributary/core';
import { mb, startSandboxProcess, trackPeakRss } from './support.js';

export async function benchConnectorRead(responses: number): Promise<Record<string, string | number>> {
  const sandbox = await startSandboxProcess(responses, 365);
  try {
    const config = closeAlertConnector.configSchema.parse({
      projectKey: sandbox.projectKey,
      apiToken: sandbox.token,
      baseUrl: sandbox.url,
      backfillDays: 366,
      pageSize: 250,
    });
    const [stream] = closeAlertConnector.streams;
    if (!stream) throw new Error('the connector has no stream');
    const rss = trackPeakRss();
    const started = performance.now();
    let records = 0;
    let rejected = 0;
    let pages = 0;
    for await (const page of stream.read({ config, checkpoint: null, now: sandbox.now, logger: silentLogger() })) {
      records += page.records.length;
      rejected += page.rejected.length;
      pages += 1;
    }
    const seconds = (performance.now() - started) / 1000;
    const peak = rss.stop();
    if (records + rejected < responses) throw new Error(`read ${records + rejected} of ${responses} responses`);
    return {
      benchmark: 'connector read',
      responses: records,
      rejected,
      pages,
      seconds: Number(seconds.toFixed(2)),
      'responses/s': Math.round(records / seconds),
      'peak RSS': mb(peak),
    };
  } finally {
    await sandbox.stop();
  }
}
