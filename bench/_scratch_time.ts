import { randomBytes } from 'node:crypto';
import { createSecretCipher, createStore } from '@tributary/store-typeorm';
const url = process.argv[2]!;
const store = await createStore({ url, cipher: createSecretCipher({ keys: { k: randomBytes(32) }, currentKeyId: 'k' }) });
const now = new Date('2026-06-01T00:00:00.000Z');
const t: number[] = [];
for (let i = 0; i < 60; i++) { const s = performance.now(); await store.evaluateProfile('bench', 'Unhappy last 10 days', { now, record: false }); t.push(performance.now() - s); }
t.sort((a, b) => a - b);
console.log(url.slice(0, 10), 'min', t[0]!.toFixed(1), 'p50', t[30]!.toFixed(1), 'p95', t[57]!.toFixed(1));
const q: number[] = [];
for (let i = 0; i < 30; i++) { const s = performance.now(); await store.query('SELECT 1'); q.push(performance.now() - s); }
q.sort((a, b) => a - b);
console.log('SELECT 1 via store.query p50', q[15]!.toFixed(2));
await store.close();
