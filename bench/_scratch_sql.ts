import { randomBytes } from 'node:crypto';
import { createSecretCipher, createStore } from '@tributary/store-typeorm';
import { compileProfile } from '../packages/store-typeorm/src/profiles/compile.js';
const url = process.argv[2]!;
const store = await createStore({ url, cipher: createSecretCipher({ keys: { k: randomBytes(32) }, currentKeyId: 'k' }) });
const p = await store.getProfile('bench', process.argv[3] ?? 'Unhappy last 10 days');
const inst = await store.query<{ id: string }>(`SELECT id FROM ${store.dialect === 'postgres' ? 'tributary.installations' : 'tributary_installations'}`);
const st = compileProfile(p!.definition, { dialect: store.dialect, naming: store.naming, installationId: inst[0]!.id, now: new Date('2026-06-01T00:00:00.000Z'), answerCopies: { createdAt: true, formId: true } });
let sql = st.sql;
if (store.dialect === 'postgres') st.params.forEach((v, i) => { sql = sql.replaceAll(new RegExp(`\\$${i + 1}(?!\\d)`, 'g'), typeof v === 'number' ? String(v) : `'${String(v)}'`); });
else { let i = 0; sql = sql.replace(/\?/g, () => { const v = st.params[i++]; return typeof v === 'number' ? String(v) : `'${String(v)}'`; }); }
console.log(sql + ';');
await store.close();
