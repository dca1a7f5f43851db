import { randomBytes } from 'node:crypto';
import { createSecretCipher, createStore } from '@tributary/store-typeorm';
import { compileProfile } from '../packages/store-typeorm/src/profiles/compile.js';
const url = process.argv[2]!;
const store = await createStore({ url, cipher: createSecretCipher({ keys: { k: randomBytes(32) }, currentKeyId: 'k' }) });
const now = new Date('2026-06-01T00:00:00.000Z');
const p = await store.getProfile('bench', 'Unhappy last 10 days');
const inst = await store.query<{ id: string }>(`SELECT id FROM ${store.dialect === 'postgres' ? 'tributary.installations' : 'tributary_installations'}`);
const st = compileProfile(p!.definition, { dialect: store.dialect, naming: store.naming, installationId: inst[0]!.id, now, answerCopies: { createdAt: true, formId: true } });
const stNoContacts = { ...st, sql: st.sql.replace(/LEFT JOIN \S+ c ON [^\n]*/, '').replace(/c\."contact_id" AS/, 'NULL AS') };
async function time(label: string, f: () => Promise<unknown>) {
  const t: number[] = [];
  for (let i = 0; i < 40; i++) { const s = performance.now(); await f(); t.push(performance.now() - s); }
  t.sort((a, b) => a - b);
  console.log(label.padEnd(20), 'min', t[0]!.toFixed(1), 'p50', t[20]!.toFixed(1));
}
await time('full evaluate', () => store.evaluateProfile('bench', 'Unhappy last 10 days', { now, record: false }));
await time('query only', () => store.query(st.sql, st.params));
await time('query no contacts', () => store.query(stNoContacts.sql, stNoContacts.params));
await time('getProfile', () => store.getProfile('bench', 'Unhappy last 10 days'));
await store.close();
