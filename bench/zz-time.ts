import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { csvField } from '@tributary/core';
import { createSecretCipher, createStore } from '@tributary/store-typeorm';
const [url] = process.argv.slice(2) as [string];
const store = await createStore({ url, cipher: createSecretCipher({ keys: { k: randomBytes(32) }, currentKeyId: 'k' }) });
const name = 'Gave a 5 on question 1';
const now = new Date('2026-06-01T00:00:00.000Z');
for (let i = 0; i < 4; i++) {
  const cpu = process.cpuUsage(); const t = performance.now(); let first: number | undefined; let n = 0; let rowsMs = 0; let fmtMs = 0;
  const it = store.streamProfile('bench', name, { now, record: false, changes: false });
  for (;;) {
    const a = performance.now(); const next = await it.next(); rowsMs += performance.now() - a; if (next.done) break;
    const b = performance.now(); let text = '';
    for (const m of next.value) text += [m.email, m.customerId ?? m.contactId, m.contactId, m.responseId, m.formId, m.score, m.respondedAt.toISOString(), m.app].map(csvField).join(',') + '\r\n';
    fmtMs += performance.now() - b; first ??= performance.now() - t; n += next.value.length;
  }
  const c = process.cpuUsage(cpu);
  console.log(process.env.ZZ_OLD ? 'old' : 'new', n, 'first', first?.toFixed(0), 'total', (performance.now() - t).toFixed(0), 'in next()', rowsMs.toFixed(0), 'formatting', fmtMs.toFixed(0), 'cpu ms', ((c.user + c.system) / 1000).toFixed(0), readFileSync('/proc/loadavg', 'utf8').split(' ')[0]);
}
await store.close();
