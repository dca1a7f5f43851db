// Issue 13's cross-source profile benchmark: N responses split over CloseAlert and Typeform in one
// workspace (the customers overlap), loaded straight into the app tables with set-based SQL as
// bench/profiles.ts does for CloseAlert, then one profile over both apps evaluated repeatedly.
// Targets: p50 <= 20 ms on PostgreSQL, <= 100 ms on SQLite.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Sqlite from 'better-sqlite3';
import pg from 'pg';
import { dataModelSchema, validateMappings, type ProfileDefinitionInput } from '@tributary/core';
import { closeAlertDataModel, closeAlertDefaultMappings } from '@tributary/connector-closealert';
import { typeformDataModel, typeformDefaultMappings } from '@tributary/connector-typeform';
import { createSecretCipher, createStore, type TypeOrmStore } from '@tributary/store-typeorm';
import { createPostgresTestDatabase } from '@tributary/testing';
import { loadPostgres, loadSqlite, secondaryIndexes, timeProfile } from './profiles.js';

const NOW = new Date('2026-06-01T00:00:00.000Z');
const SPAN_DAYS = 365;
const WORKSPACE = 'bench';

/** "Everyone who scored 2 or less anywhere in the past ten days": both apps, one member per customer. */
const LOW_ANYWHERE: ProfileDefinitionInput = {
  name: 'Two or less anywhere in 10 days',
  match: { all: [{ type: 'responded', withinDays: 10 }, { type: 'score', op: '<=', value: 2 }] },
};

const FORMS = ['tfNps0001', 'tfCsat002', 'tfSupp003', 'tfEvnt004'];
const FIELDS = [
  { id: 'nps', type: 'nps', title: 'How likely are you to recommend us?' },
  { id: 'csat', type: 'opinion_scale', title: 'How satisfied are you?' },
  { id: 'why', type: 'long_text', title: 'What could we do better?' },
];

/**
 * Integer-only SQL over a generated id `g` for both databases. E-mails are drawn from the same pool as
 * bench/profiles.ts's CloseAlert responses (customer<k>@example.com, k < total/6), so customers answer
 * in both apps; scores lean high (P(score <= k) = (k/10)^2).
 */
function typeformSql(n: number, g = 'g') {
  const customers = Math.max(1, Math.floor(n / 3));
  const v = `((${g} * 104729 + 7) % 100)`;
  return {
    form: `CASE (${g} * 7919) % ${FORMS.length} ${FORMS.map((f, i) => `WHEN ${i} THEN '${f}'`).join(' ')} END`,
    email: `CASE WHEN ${g} % 50 = 0 THEN NULL ELSE 'customer' || ((${g} * 69621) % ${customers}) || '@example.com' END`,
    score: `CASE ${Array.from({ length: 10 }, (_, k) => `WHEN ${v} < ${(k + 1) * (k + 1)} THEN ${k}`).join(' ')} ELSE 10 END`,
    ageMs: `((${n} - ${g}) * ${Math.floor((SPAN_DAYS * 86_400_000) / n)})`,
  };
}

async function typeformIndexes(store: TypeOrmStore, dialect: 'postgres' | 'sqlite'): Promise<string[]> {
  const rows =
    dialect === 'postgres'
      ? await store.query<{ name: string }>(
          `SELECT quote_ident(schemaname) || '.' || quote_ident(indexname) AS name FROM pg_indexes
            WHERE schemaname = $1 AND tablename LIKE 'typeform\\_%' AND indexname LIKE '%\\_idx'`,
          [store.naming.schema],
        )
      : await store.query<{ name: string }>(
          `SELECT '"' || name || '"' AS name FROM sqlite_master WHERE type = 'index' AND tbl_name LIKE ? ESCAPE '\\' AND name LIKE '%\\_idx' ESCAPE '\\'`,
          [`${store.naming.tablePrefix.replaceAll('_', '\\_')}typeform\\_%`],
        );
  return rows.map((r) => r.name);
}

/** The Typeform tables' statements for one dialect: forms, fields, contacts, responses, three answers each. */
function typeformStatements(dialect: 'postgres' | 'sqlite', store: TypeOrmStore, installationId: string, n: number, dropIndexes: readonly string[]): string[] {
  const t = (table: string) => store.appTable('typeform', table);
  const s = typeformSql(n);
  const inst = dialect === 'postgres' ? `'${installationId}'::uuid` : `'${installationId}'`;
  const series = dialect === 'postgres' ? `generate_series(1::bigint, ${n}::bigint) g` : 'seq';
  const withSeries = dialect === 'postgres' ? '' : `WITH RECURSIVE seq(g) AS (SELECT 1 UNION ALL SELECT g + 1 FROM seq WHERE g < ${n}) `;
  const time = (ms: string) =>
    dialect === 'postgres' ? `'${NOW.toISOString()}'::timestamptz - (${ms}) * interval '1 millisecond'` : `strftime('%Y-%m-%dT%H:%M:%fZ', (${NOW.getTime()} - ${ms}) / 1000.0, 'unixepoch')`;
  const uuid =
    dialect === 'postgres'
      ? 'gen_random_uuid()'
      : `lower(hex(randomblob(4)) || '-' || hex(randomblob(2)) || '-4' || substr(hex(randomblob(2)), 2) || '-a' || substr(hex(randomblob(2)), 2) || '-' || hex(randomblob(6)))`;
  const fields = FIELDS.map((f) => `SELECT '${f.id}' AS fid, '${f.type}' AS ftype, '${f.title}' AS title`).join(' UNION ALL ');
  const rScore = typeformSql(n, 'CAST(substr(r.response_id, 2) AS INTEGER)').score.replaceAll('CAST(substr(r.response_id, 2) AS INTEGER)', dialect === 'postgres' ? 'substr(r.response_id, 2)::bigint' : 'CAST(substr(r.response_id, 2) AS INTEGER)');
  return [
    'BEGIN',
    ...dropIndexes.map((index) => `DROP INDEX ${index}`),
    `INSERT INTO ${t('forms')} (installation_id, form_id, title) VALUES ${FORMS.map((f, i) => `(${inst}, '${f}', 'Survey ${i + 1}')`).join(', ')}`,
    `INSERT INTO ${t('fields')} (installation_id, form_id, field_id, ref, title, field_type)
     SELECT ${inst}, f.id, q.fid, q.fid, q.title, q.ftype FROM (${FORMS.map((f) => `SELECT '${f}' AS id`).join(' UNION ALL ')}) f CROSS JOIN (${fields}) q`,
    `${withSeries}INSERT INTO ${t('contacts')} SELECT ${inst}, e, ${uuid}, '${NOW.toISOString()}'
       FROM (SELECT DISTINCT ${s.email} AS e FROM ${series}) x WHERE e IS NOT NULL`,
    `${withSeries}INSERT INTO ${t('responses')} (installation_id, response_id, token, form_id, landed_at, submitted_at, email, email_normalized, hidden, metadata, calculated_score, raw, backfilled, contact_id)
     SELECT ${inst}, 'r' || g, 'r' || g, ${s.form}, ${time(`${s.ageMs} + 60000`)}, ${time(s.ageMs)}, x.e, x.e, '{}', '{}', NULL, '{}', ${dialect === 'postgres' ? 'false' : '0'}, c.contact_id
       FROM (SELECT g, ${s.email} AS e FROM ${series}) x
       LEFT JOIN ${t('contacts')} c ON c.installation_id = ${inst} AND c.email_normalized = x.e`,
    `INSERT INTO ${t('answers')} (installation_id, response_id, form_id, submitted_at, field_id, field_type, field_title, answer_type, value_text, number, score, comment)
     SELECT r.installation_id, r.response_id, r.form_id, r.submitted_at, q.fid, q.ftype, q.title,
            CASE q.ftype WHEN 'long_text' THEN 'text' ELSE 'number' END,
            CASE q.ftype WHEN 'long_text' THEN 'Could be faster' ELSE CAST(${rScore} AS TEXT) END,
            CASE q.ftype WHEN 'long_text' THEN NULL ELSE ${rScore} END,
            CASE q.ftype WHEN 'long_text' THEN NULL ELSE ${rScore} END,
            CASE q.ftype WHEN 'long_text' THEN 'Could be faster' END
       FROM ${t('responses')} r CROSS JOIN (${fields}) q
      WHERE r.installation_id = ${inst}`,
    'COMMIT',
  ];
}

async function benchOne(dialect: 'postgres' | 'sqlite', url: string, n: number): Promise<Record<string, string | number>> {
  const store = await createStore({ url, cipher: createSecretCipher({ keys: { k: randomBytes(32) }, currentKeyId: 'k' }) });
  try {
    await store.migrate();
    const caModel = dataModelSchema.parse(closeAlertDataModel);
    const tfModel = dataModelSchema.parse(typeformDataModel);
    const ca = await store.install({
      workspace: WORKSPACE,
      app: 'closealert',
      config: { projectKey: 'company.com', apiToken: 'bench-token', timeZone: 'UTC' },
      secretFields: ['apiToken'],
      mappings: validateMappings(closeAlertDefaultMappings, caModel),
      dataModel: caModel,
    });
    const tf = await store.install({ workspace: WORKSPACE, app: 'typeform', config: { token: 'bench-token' }, secretFields: ['token'], mappings: validateMappings(typeformDefaultMappings, tfModel), dataModel: tfModel });
    const half = Math.floor(n / 2);
    const caIndexes = await secondaryIndexes(store, dialect);
    const tfIndexes = await typeformIndexes(store, dialect);
    const loadStarted = performance.now();
    if (dialect === 'postgres') {
      await loadPostgres(url, store, ca.id, half, caIndexes);
      const client = new pg.Client({ connectionString: url });
      await client.connect();
      try {
        for (const sql of typeformStatements('postgres', store, tf.id, n - half, tfIndexes)) await client.query(sql);
      } finally {
        await client.end();
      }
    } else {
      await loadSqlite(url.slice('sqlite:'.length), store, ca.id, half, caIndexes);
      const db = new Sqlite(url.slice('sqlite:'.length));
      try {
        for (const sql of typeformStatements('sqlite', store, tf.id, n - half, tfIndexes)) db.exec(sql);
      } finally {
        db.close();
      }
    }
    const loadSeconds = (performance.now() - loadStarted) / 1000;
    await store.provision(ca);
    await store.provision(tf);
    if (dialect === 'postgres') {
      const admin = new pg.Client({ connectionString: url });
      await admin.connect();
      const tables = [['closealert', 'form_responses'], ['closealert', 'answers'], ['closealert', 'contacts'], ['typeform', 'responses'], ['typeform', 'answers'], ['typeform', 'contacts']];
      await admin.query(`VACUUM ANALYZE ${tables.map(([app, table]) => store.appTable(app!, table!)).join(', ')}`);
      await admin.end();
    }
    await store.createProfile(WORKSPACE, LOW_ANYWHERE);
    if (process.env.BENCH_PROFILES_PLAN) console.error(`\n--- ${dialect}\n${(await store.explainProfile(WORKSPACE, LOW_ANYWHERE.name, { now: NOW, analyze: dialect === 'postgres' })).join('\n')}`);
    const evaluation = await store.evaluateProfile(WORKSPACE, LOW_ANYWHERE.name, { now: NOW, record: false });
    const both = evaluation.members.filter((m) => new Set(m.matches.map((x) => x.app)).size > 1).length;
    const timing = await timeProfile(store, LOW_ANYWHERE.name, 40);
    return {
      benchmark: `typeform cross-source profile ${dialect}`,
      responses: n,
      'closealert responses': half,
      'typeform responses': n - half,
      'load s': Number(loadSeconds.toFixed(1)),
      members: timing.members,
      'members in both apps': both,
      'p50 ms': timing.p50,
      'p95 ms': timing.p95,
      'target p50 ms': dialect === 'postgres' ? 20 : 100,
    };
  } finally {
    await store.close();
  }
}

/** The cross-source profile with `responses` split over both apps, on PostgreSQL and SQLite. */
export async function benchTypeformProfiles(responses: number): Promise<Record<string, string | number>[]> {
  const results: Record<string, string | number>[] = [];
  const postgres = await createPostgresTestDatabase('bench-typeform-profiles');
  if (!postgres) throw new Error('the cross-source profile benchmark needs PostgreSQL');
  try {
    results.push(await benchOne('postgres', postgres.url, responses));
    console.error(JSON.stringify(results[results.length - 1]));
  } finally {
    await postgres.drop();
  }
  const dir = mkdtempSync(join(tmpdir(), 'tributary-bench-typeform-profiles-'));
  try {
    results.push(await benchOne('sqlite', `sqlite:${join(dir, 'bench.db')}`, responses));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return results;
}
