import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { describe, expect, it } from 'vitest';
import { closeAlertConnector } from '@tributary/connector-closealert';
import { silentLogger } from '@tributary/core';
import { tributaryCliEntry } from '@tributary/testing';

const BIN = tributaryCliEntry();

describe('tributary sandbox', () => {
  it('serves 10,000 responses that the connector reads completely, and stops on SIGTERM', async () => {
    const child = spawn(process.execPath, [BIN, 'sandbox', '--port', '0', '--responses', '10000', '--seed', '3'], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const printed: Record<string, string> = {};
    const lines = createInterface({ input: child.stdout });
    for await (const line of lines) {
      const match = /^\s+(base URL|project key|token):\s+(\S+)$/.exec(line);
      if (match) printed[match[1]!] = match[2]!;
      if (line.startsWith('Press Ctrl-C')) break;
    }
    const config = closeAlertConnector.configSchema.parse({
      projectKey: printed['project key'],
      apiToken: printed.token,
      baseUrl: printed['base URL'],
      backfillDays: 370,
    });
    const ids = new Set<number>();
    let rejected = 0;
    for await (const page of closeAlertConnector.streams[0]!.read({ config, checkpoint: null, now: new Date(), logger: silentLogger() })) {
      for (const record of page.records) ids.add(record.id);
      rejected += page.rejected.length;
    }
    expect(rejected).toBe(0);
    expect(ids.size).toBe(10_000);
    const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
  });
});
