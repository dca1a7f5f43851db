import { startSandbox, type Fault } from '@tributary/typeform-sandbox';
import { describeConnectorConformance, tributaryCliEntry } from '@tributary/testing';
import { typeformConnector } from './index.js';

// Typeform against the standard connector checks, through the real CLI and the Typeform sandbox,
// at Typeform's own pace (2 requests per second, enforced on both sides). One form, so that every
// injected fault meets a request that has responses (several forms: stream.integration.test.ts).

const faults = {
  'rate-limited': { kind: 'status', status: 429, retryAfterSeconds: 1 },
  'server-error': { kind: 'status', status: 500 },
  'truncated-json': { kind: 'truncated-json' },
  'connection-reset': { kind: 'reset' },
  'bad-record': { kind: 'bad-record' },
} satisfies Record<string, Fault>;
type FaultName = keyof typeof faults;

await describeConnectorConformance<FaultName>({
  connector: typeformConnector,
  cliEntry: tributaryCliEntry(),
  requestLogMessage: 'typeform request',
  faults: ['rate-limited', 'server-error', 'truncated-json', 'connection-reset'],
  badRecordFault: 'bad-record',
  records: 300,
  kills: 3,
  async startSandbox({ records }) {
    const sandbox = await startSandbox({ responses: records, forms: 1, spanDays: 20, seed: 7 });
    return {
      url: sandbox.url,
      installArgs: ['--token', sandbox.token, '--api-url', sandbox.url, '--page-size', '40'],
      secrets: [sandbox.token],
      recordCount: () => sandbox.responseCount(),
      addRecords: (count) => void sandbox.addResponses(count),
      injectFault: (name) => sandbox.injectFault(faults[name]),
      close: () => sandbox.close(),
    };
  },
});
