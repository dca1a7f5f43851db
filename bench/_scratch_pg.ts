import pg from 'pg';
import { readFileSync } from 'node:fs';
const sql = readFileSync('/tmp/unhappy_pg.sql', 'utf8');
const nc = readFileSync('/tmp/nc.sql', 'utf8');
const client = new pg.Client({ connectionString: process.argv[2] });
await client.connect();
async function time(label: string, f: () => Promise<unknown>) {
  const t: number[] = [];
  for (let i = 0; i < 30; i++) { const s = performance.now(); await f(); t.push(performance.now() - s); }
  t.sort((a, b) => a - b);
  console.log(label.padEnd(28), 'min', t[0]!.toFixed(1), 'p50', t[15]!.toFixed(1));
}
await time('raw pg full', () => client.query(sql));
await time('raw pg no contacts', () => client.query(nc));
await time('raw pg full rowMode array', () => client.query({ text: sql, rowMode: 'array' }));
await time('raw pg count(*) of full', () => client.query(`SELECT count(*) FROM (${sql.replace(/;\s*$/, '')}) x`));
await client.end();
const c2 = new pg.Client({ connectionString: process.argv[2] });
await c2.connect();
const body = sql.replace(/;\s*$/, '');
async function time2(label: string, f: () => Promise<unknown>) {
  const t: number[] = [];
  for (let i = 0; i < 30; i++) { const s = performance.now(); await f(); t.push(performance.now() - s); }
  t.sort((a, b) => a - b);
  console.log(label.padEnd(28), 'min', t[0]!.toFixed(1), 'p50', t[15]!.toFixed(1));
}
await time2('count(contact_id)', () => c2.query(`SELECT count(contact_id) FROM (${body}) x`));
await time2('text cast all cols', () => c2.query(`SELECT email, response_id::text, responded_at::text, form_id::text, contact_id::text, score::text FROM (${body}) x`));
await time2('json_agg', () => c2.query(`SELECT json_agg(x) FROM (${body}) x`));
await c2.end();
