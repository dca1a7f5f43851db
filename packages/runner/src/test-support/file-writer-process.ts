// A child process that writes big batches through the file destination, one after another, and
// says when each write begins and ends; the file-destination kill test SIGKILLs it mid-write.
import { randomUUID } from 'node:crypto';
import { silentLogger, type DeliveryBatch } from '@tributary/core';
import { fileDestination } from '../destinations/file.js';

const [directory, format, size] = process.argv.slice(2) as [string, 'jsonl' | 'csv', string];
const count = Number(size);
const members = Array.from({ length: count }, (_, i) => `customer-${String(i).padStart(7, '0')}@example.com`);
const config = fileDestination.configSchema.parse({ directory, format });

for (let n = 0; ; n += 1) {
  const batch: DeliveryBatch = {
    id: randomUUID(),
    workspace: 'kill',
    profile: 'Everyone',
    reason: 'evaluation',
    evaluatedAt: new Date(Date.UTC(2024, 0, 1, 0, 0, n)).toISOString(),
    changes: members.map((email) => ({ email, change: 'entered' as const })),
    members,
  };
  process.send?.({ type: 'writing', n });
  const outcome = await fileDestination.deliver!(batch, { config, name: 'drop', logger: silentLogger() });
  process.send?.({ type: 'written', n, status: outcome.status });
}
