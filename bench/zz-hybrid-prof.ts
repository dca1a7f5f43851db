// Temporary profiling of the hybrid stream (not committed).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import Sqlite from 'better-sqlite3';
import { profileDefinitionSchema } from '@tributary/core';
import { createPostgresTestDatabase } from '@tributary/testing';
import { seedProfilesDatabase } from './profiles.js';
import { compileProfile } from '../packages/store-typeorm/src/profiles/compile.js';
import { feedbackSourceOf } from '../packages/store-typeorm/src/profiles/schema.js';

const n = Number(process.env.N ?? 200000);
const GAVE_FIVE = { name: 'Gave a 5 on question 1', match: { all: [{ type: 'question', questionIndex: '1' }, { type: 'score', op: '=', value: 5 }] } } as const;
const dialects = (process.env.DIALECTS ?? 'postgres,sqlite').split(',') as ('postgres' | 'sqlite')[];

async function time(label: string, fn: () => Promise<unknown>, runs = 3) {
  await fn();
  const t: number[] = [];
  for (let i = 0; i < runs; i++) {
    const s = performance.now();
    await fn();
    t.push(performance.now() - s);
  }
  t.sort((a, b) => a - b);
  console.log(`${label}: median ${t[Math.floor(t.length / 2)]!.toFixed(0)} ms  (${t.map((x) => x.toFixed(0)).join(', ')})`);
}

for (const dialect of dialects) {
  let url: string;
  let cleanup: () => Promise<void>;
  if (dialect === 'postgres') {
    const db = (await createPostgresTestDatabase('hybrid-prof'))!;
    url = db.url;
    cleanup = () => db.drop();
  } else {
    const dir = mkdtempSync(join(tmpdir(), 'hybrid-prof-'));
    url = `sqlite:${join(dir, 'bench.db')}`;
    cleanup = async () => rmSync(dir, { recursive: true, force: true });
  }
  const { store, workspace, now } = await seedProfilesDatabase(dialect, url, n);
  try {
    await store.createProfile(workspace, GAVE_FIVE);
    const installation = (await store.findInstallation(workspace, 'closealert'))!;
    const source = feedbackSourceOf(store.naming, installation)!;
    const definition = profileDefinitionSchema.parse(GAVE_FIVE);
    const ranked = compileProfile(definition, { dialect, sources: [source], now });
    const inOrder = compileProfile(definition, { dialect, sources: [source], now, streamed: true });
    console.log(`\n===== ${dialect} ${n}`);
    console.log((await store.explainProfile(workspace, GAVE_FIVE.name, { now, analyze: true, streamed: true })).join('\n'));
    await time('evaluateProfile', () => store.evaluateProfile(workspace, GAVE_FIVE.name, { now, record: false }));
    let members = 0;
    await time('streamProfile drained (no csv)', async () => {
      members = 0;
      for await (const b of store.streamProfile(workspace, GAVE_FIVE.name, { now, record: false, changes: false })) members += b.length;
    });
    console.log('members', members);
    if (dialect === 'postgres') {
      const c = new pg.Client({ connectionString: url });
      await c.connect();
      await c.query('SET jit = off');
      const ex = await c.query(`EXPLAIN (ANALYZE, BUFFERS, SUMMARY ON) ${ranked.sql}`, ranked.params);
      console.log(ex.rows.map((r) => r['QUERY PLAN']).join('\n'));
      await time('pg ranked plain query (all rows)', () => c.query(ranked.sql, ranked.params));
      await time('pg ranked SELECT count(*) (server only)', () => c.query(`SELECT count(*) FROM (${ranked.sql}) q`, ranked.params));
      await time('pg in-order SELECT count(*) (server only)', () => c.query(`SELECT count(*) FROM (${inOrder.sql}) q`, inOrder.params));
      for (const [label, frac] of [['ranked cursor fetch 1000', '1.0'], ['ranked cursor fetch 10000', '1.0']] as const) {
        const size = label.endsWith('10000') ? 10000 : 1000;
        await time(`pg ${label}`, async () => {
          await c.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
          await c.query(`SET LOCAL cursor_tuple_fraction = ${frac}`);
          await c.query(`DECLARE x NO SCROLL CURSOR FOR ${ranked.sql}`, ranked.params);
          for (;;) {
            const r = await c.query(`FETCH ${size} FROM x`);
            if (r.rows.length < size) break;
          }
          await c.query('ROLLBACK');
        });
      }
      await c.end();
    } else {
      const db = new Sqlite(url.slice('sqlite:'.length), { readonly: true });
      db.pragma('mmap_size = 1073741824');
      console.log(db.prepare(`EXPLAIN QUERY PLAN ${ranked.sql}`).all(...ranked.params).map((r) => (r as { detail: string }).detail).join('\n'));
      await time('sqlite ranked iterate all', async () => {
        let k = 0;
        for (const _ of db.prepare(ranked.sql).iterate(...ranked.params)) k++;
      });
      await time('sqlite ranked count(*)', async () => db.prepare(`SELECT count(*) FROM (${ranked.sql}) q`).get(...ranked.params));
      const answersFirst = ranked.sql.replace(/FROM ("[^"]+form_responses") r\n    JOIN ("[^"]+answers") ja ON/, 'FROM $2 ja CROSS JOIN $1 r ON');
      console.log(db.prepare(`EXPLAIN QUERY PLAN ${answersFirst}`).all(...ranked.params).map((r) => (r as { detail: string }).detail).join('\n'));
      await time('sqlite ranked answers-first (CROSS JOIN) iterate all', async () => {
        let k = 0;
        for (const _ of db.prepare(answersFirst).iterate(...ranked.params)) k++;
      });
      await time('sqlite in-order iterate all', async () => {
        let k = 0;
        for (const _ of db.prepare(inOrder.sql).iterate(...inOrder.params)) k++;
      });
      db.close();
    }
  } finally {
    await store.close();
    await cleanup();
  }
}
