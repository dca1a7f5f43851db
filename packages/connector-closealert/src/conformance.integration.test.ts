import { startSandbox, type Fault } from '@tributary/closealert-sandbox';
import { describeConnectorConformance, tributaryCliEntry } from '@tributary/testing';
import { closeAlertConnector } from './index.js';

// CloseAlert against the standard connector checks, through the real CLI and the CloseAlert sandbox.

const faults = {
  'rate-limited': { kind: 'status', status: 429, retryAfterSeconds: 1 },
  'server-error': { kind: 'status', status: 500 },
  unavailable: { kind: 'status', status: 503 },
  'truncated-json': { kind: 'truncated-json' },
  'connection-reset': { kind: 'reset' },
  slow: { kind: 'slow', delayMs: 300 },
  'bad-record': { kind: 'bad-record' },
} satisfies Record<string, Fault>;
type FaultName = keyof typeof faults;

await describeConnectorConformance<FaultName>({
  connector: closeAlertConnector,
  cliEntry: tributaryCliEntry(),
  requestLogMessage: 'closealert request',
  // One of each family keeps the file near a minute; the client tests cover every status and timing.
  faults: ['rate-limited', 'truncated-json', 'connection-reset'],
  badRecordFault: 'bad-record',
  records: 300,
  kills: 3,
  async startSandbox({ records }) {
    const sandbox = await startSandbox({ responses: records, spanDays: 20, seed: 7, rateLimit: { capacity: 100_000, refillPerSecond: 100_000 } });
    return {
      url: sandbox.url,
      installArgs: ['--project', sandbox.projectKey, '--token', sandbox.token, '--api-url', sandbox.url, '--page-size', '20'],
      secrets: [sandbox.token],
      recordCount: () => sandbox.responses().length,
      addRecords: (count) => void sandbox.addResponses(count),
      injectFault: (name) => sandbox.injectFault(faults[name]),
      close: () => sandbox.close(),
    };
  },
});
