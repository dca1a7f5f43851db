// Issue 7's benchmark: profiles over N CloseAlert responses (3 answers each) of one installation,
// loaded straight into the store's app tables with set-based SQL (generate_series on PostgreSQL, a
// recursive CTE on SQLite; secondary indexes are dropped during the load and rebuilt by the store's
// own provisioning). Then the manual's example ("past ten days, form F, question 1 scored 1 or below
// 3") is evaluated repeatedly. Targets: p50 <= 20 ms on PostgreSQL, <= 100 ms on SQLite.
// Size: BENCH_PROFILES_RESPONSES (default 1,000,000). BENCH_PROFILES_PLAN=1 prints the query plans.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Sqlite from 'better-sqlite3';
import pg from 'pg';
import { csvField, dataModelSchema, validateMappings, type ProfileDefinitionInput } from '@tributary/core';
import { closeAlertDataModel, closeAlertDefaultMappings } from '@tributary/connector-closealert';
import { createSecretCipher, createStore, type TypeOrmStore } from '@tributary/store-typeorm';
import { createPostgresTestDatabase } from '@tributary/testing';

const NOW = new Date('2026-06-01T00:00:00.000Z');
const SPAN_DAYS = 365;
const BACKFILL_DAYS = 90;
const WORKSPACE = 'bench';
const ITERATIONS = 40;

/** The manual's example, on the first form of the generated data. */
const UNHAPPY: ProfileDefinitionInput = {
  name: 'Unhappy last 10 days',
  match: {
    all: [
      { type: 'responded', withinDays: 10 },
      { type: 'form', id: 34 },
      { type: 'question', formId: 34, questionIndex: '1' },
      {
        any: [
          { type: 'score', op: '=', value: 1 },
          { type: 'score', op: '<', value: 3 },
        ],
      },
    ],
  },
};
/** The manual's other example, over all of history: a heavy profile, reported for scale. */
const GAVE_FIVE: ProfileDefinitionInput = {
  name: 'Gave a 5 on question 1',
  match: {
    all: [
      { type: 'question', questionIndex: '1' },
      { type: 'score', op: '=', value: 5 },
    ],
  },
};

// Five forms as the sandbox has them; each response picks one by a deterministic hash of its id.
const FORMS = [
  { id: 34, type: 'email-satisfaction', name: 'Email satisfaction form', upTo: 35, max: 5 },
  { id: 35, type: 'nps', name: 'Net promoter score', upTo: 55, max: 10 },
  { id: 36, type: 'service', name: 'Customer service survey', upTo: 75, max: 5 },
  { id: 37, type: 'product-review', name: 'Product review', upTo: 90, max: 5 },
  { id: 38, type: 'email-satisfaction', name: 'Newsletter feedback', upTo: 100, max: 5 },
];
const MAILINGS = 40;

/**
 * SQL expressions over a generated id (`g`, or the response id when answers are derived), written
 * once for both databases with integer arithmetic only. Scores lean high like the sandbox's
 * (P(score <= k) = (k / max)^2, as sqrt(uniform) gives): about 16% of 1-5 scores are 1 or 2.
 */
function generated(n: number, g = 'g') {
  const customers = Math.max(1, Math.floor(n / 3));
  const formPick = `((${g} * 7919 + 13) % 100)`;
  const leaning = (max: number) => {
    const v = `((${g} * 104729 + 7) % ${max * max})`;
    const steps = Array.from({ length: max - 1 }, (_, k) => `WHEN ${v} < ${(k + 1) * (k + 1)} THEN ${k + 1}`);
    return `CASE ${steps.join(' ')} ELSE ${max} END`;
  };
  return {
    form: `CASE ${FORMS.map((f) => `WHEN ${formPick} < ${f.upTo} THEN ${f.id}`).join(' ')} END`,
    mailing: `(1000 + (${g} * 31) % ${MAILINGS})`,
    group: `(44 + (${g} * 31) % ${MAILINGS} % 2)`,
    // One response in 50 has no e-mail; a customer answers about three times a year.
    email: `CASE WHEN ${g} % 50 = 0 THEN NULL ELSE 'customer' || ((${g} * 48271) % ${customers}) || '@example.com' END`,
    score: `CASE ${FORMS.map((f) => `WHEN ${formPick} < ${f.upTo} THEN ${leaning(f.max)}`).join(' ')} END`,
    /** Milliseconds before NOW: responses spread evenly over the span, the newest with the highest id. */
    ageMs: `((${n} - ${g}) * ${Math.floor((SPAN_DAYS * 86_400_000) / n)})`,
  };
}

const COMMENTS = [
  'Too many mails',
  'Great, thanks!',
  'Late delivery',
  'ok',
  'Could be better',
  'Love the products',
];

export async function loadPostgres(
  url: string,
  store: TypeOrmStore,
  installationId: string,
  n: number,
  dropIndexes: readonly string[],
): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  const t = (table: string) => store.appTable('closealert', table);
  const load = async () => {
    const g = generated(n);
    const inst = `'${installationId}'::uuid`;
    const now = `'${NOW.toISOString()}'::timestamptz`;
    const comments = `(ARRAY[${COMMENTS.map((c) => `'${c}'`).join(', ')}])[1 + r.response_id % ${COMMENTS.length}]`;
    const statements = [
      'BEGIN',
      ...dropIndexes.map((index) => `DROP INDEX ${index}`),
      `INSERT INTO ${t('forms')} (installation_id, form_id, form_type, name) VALUES ${FORMS.map((f) => `(${inst}, ${f.id}, '${f.type}', '${f.name}')`).join(', ')}`,
      `INSERT INTO ${t('groups')} (installation_id, group_id, name) VALUES (${inst}, 44, 'Newsletters'), (${inst}, 45, 'Transactional')`,
      `INSERT INTO ${t('mailings')} (installation_id, mailing_id, name) SELECT ${inst}, 1000 + m, 'Mailing ' || m FROM generate_series(0, ${MAILINGS - 1}) m`,
      `INSERT INTO ${t('questions')} (installation_id, form_id, question_index, question, question_type, answer_type) SELECT ${inst}, f.id, q.idx, q.text, q.type, NULL
       FROM (VALUES ${FORMS.map((f) => `(${f.id})`).join(', ')}) f(id)
      CROSS JOIN (VALUES ('1', 'How would you rate this e-mail?', 'sentiment'), ('2', 'Why?', 'comment'), ('3', 'Anything else?', 'form')) q(idx, text, type)`,
      // Contacts first, so that each response is written with its contact id, as the store writes it.
      `INSERT INTO ${t('contacts')} SELECT ${inst}, e, gen_random_uuid(), ${now}
       FROM (SELECT DISTINCT ${g.email} AS e FROM generate_series(1::bigint, ${n}::bigint) g) x WHERE e IS NOT NULL`,
      `INSERT INTO ${t('form_responses')} (installation_id, response_id, created_at, email, email_normalized, mail_url, user_agent, device_type,
       operating_system, followed_up, merge_tags, form_id, mailing_id, group_id, raw, backfilled, contact_id)
     SELECT ${inst}, g, ${now} - (${g.ageMs}) * interval '1 millisecond', s.e, s.e, 'https://mail.example.com/' || g,
            'Mozilla/5.0', 'desktop', 'macos', false, '{}'::jsonb, ${g.form}, ${g.mailing}, ${g.group}, '{}'::jsonb,
            ${g.ageMs} > ${BACKFILL_DAYS * 86_400_000}::bigint, c.contact_id
       FROM (SELECT g, ${g.email} AS e FROM generate_series(1::bigint, ${n}::bigint) g) s
       LEFT JOIN ${t('contacts')} c ON c.installation_id = ${inst} AND c.email_normalized = s.e`,
      `INSERT INTO ${t('answers')} (installation_id, response_id, form_id, created_at, question_index, question, question_type, answer_type, value_text, score)
     SELECT r.installation_id, r.response_id, r.form_id, r.created_at, q.idx, q.text, q.type, NULL,
            CASE q.idx WHEN '1' THEN s.score::text WHEN '2' THEN ${comments} ELSE 'no' END,
            CASE q.idx WHEN '1' THEN s.score END
       FROM ${t('form_responses')} r
      CROSS JOIN LATERAL (SELECT ${generated(n, 'r.response_id').score} AS score) s
      CROSS JOIN (VALUES ('1', 'How would you rate this e-mail?', 'sentiment'), ('2', 'Why?', 'comment'), ('3', 'Anything else?', 'form')) q(idx, text, type)
      WHERE r.installation_id = ${inst}`,
      'COMMIT',
    ];
    for (const sql of statements) await client.query(sql);
  };
  try {
    await load();
  } finally {
    await client.end();
  }
}

export async function loadSqlite(
  path: string,
  store: TypeOrmStore,
  installationId: string,
  n: number,
  dropIndexes: readonly string[],
): Promise<void> {
  const db = new Sqlite(path);
  db.pragma('busy_timeout = 10000');
  const t = (table: string) => store.appTable('closealert', table);
  const g = generated(n);
  const inst = `'${installationId}'`;
  const iso = (msBeforeNow: string) =>
    `strftime('%Y-%m-%dT%H:%M:%fZ', (${NOW.getTime()} - ${msBeforeNow}) / 1000.0, 'unixepoch')`;
  const comment = `CASE r.response_id % ${COMMENTS.length} ${COMMENTS.map((c, i) => `WHEN ${i} THEN '${c}'`).join(' ')} END`;
  const uuid = `lower(hex(randomblob(4)) || '-' || hex(randomblob(2)) || '-4' || substr(hex(randomblob(2)), 2) || '-a' || substr(hex(randomblob(2)), 2) || '-' || hex(randomblob(6)))`;
  const statements = [
    'BEGIN',
    ...dropIndexes.map((index) => `DROP INDEX ${index}`),
    `INSERT INTO ${t('forms')} (installation_id, form_id, form_type, name) VALUES ${FORMS.map((f) => `(${inst}, ${f.id}, '${f.type}', '${f.name}')`).join(', ')}`,
    `INSERT INTO ${t('groups')} (installation_id, group_id, name) VALUES (${inst}, 44, 'Newsletters'), (${inst}, 45, 'Transactional')`,
    `WITH RECURSIVE m(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM m WHERE i < ${MAILINGS - 1})
     INSERT INTO ${t('mailings')} (installation_id, mailing_id, name) SELECT ${inst}, 1000 + i, 'Mailing ' || i FROM m`,
    `INSERT INTO ${t('questions')} (installation_id, form_id, question_index, question, question_type, answer_type) SELECT ${inst}, f.id, q.idx, q.text, q.type, NULL
       FROM (${FORMS.map((f) => `SELECT ${f.id} AS id`).join(' UNION ALL ')}) f
      CROSS JOIN (SELECT '1' AS idx, 'How would you rate this e-mail?' AS text, 'sentiment' AS type
                  UNION ALL SELECT '2', 'Why?', 'comment' UNION ALL SELECT '3', 'Anything else?', 'form') q`,
    // Contacts first, so that each response is written with its contact id, as the store writes it.
    `WITH RECURSIVE s(g) AS (SELECT 1 UNION ALL SELECT g + 1 FROM s WHERE g < ${n})
     INSERT INTO ${t('contacts')} SELECT ${inst}, e, ${uuid}, '${NOW.toISOString()}'
       FROM (SELECT DISTINCT ${g.email} AS e FROM s) WHERE e IS NOT NULL`,
    `WITH RECURSIVE s(g) AS (SELECT 1 UNION ALL SELECT g + 1 FROM s WHERE g < ${n})
     INSERT INTO ${t('form_responses')} (installation_id, response_id, created_at, email, email_normalized, mail_url, user_agent, device_type,
       operating_system, followed_up, merge_tags, form_id, mailing_id, group_id, raw, backfilled, contact_id)
     SELECT ${inst}, g, ${iso(g.ageMs)}, e, e, 'https://mail.example.com/' || g, 'Mozilla/5.0', 'desktop', 'macos', 0, '{}',
            ${g.form}, ${g.mailing}, ${g.group}, '{}', ${g.ageMs} > ${BACKFILL_DAYS * 86_400_000}, c.contact_id
       FROM (SELECT g, ${g.email} AS e FROM s) x
       LEFT JOIN ${t('contacts')} c ON c.installation_id = ${inst} AND c.email_normalized = x.e`,
    `INSERT INTO ${t('answers')} (installation_id, response_id, form_id, created_at, question_index, question, question_type, answer_type, value_text, score)
     SELECT r.installation_id, r.response_id, r.form_id, r.created_at, q.idx, q.text, q.type, NULL,
            CASE q.idx WHEN '1' THEN CAST(${generated(n, 'r.response_id').score} AS TEXT) WHEN '2' THEN ${comment} ELSE 'no' END,
            CASE q.idx WHEN '1' THEN ${generated(n, 'r.response_id').score} END
       FROM ${t('form_responses')} r
      CROSS JOIN (SELECT '1' AS idx, 'How would you rate this e-mail?' AS text, 'sentiment' AS type
                  UNION ALL SELECT '2', 'Why?', 'comment' UNION ALL SELECT '3', 'Anything else?', 'form') q
      WHERE r.installation_id = ${inst}
      ORDER BY r.response_id, q.idx`,
    'COMMIT',
  ];
  try {
    for (const sql of statements) db.exec(sql);
  } finally {
    db.close();
  }
}

/** Secondary indexes of the app tables; dropped for the load and rebuilt afterwards by `store.provision()`. */
export async function secondaryIndexes(store: TypeOrmStore, dialect: 'postgres' | 'sqlite'): Promise<string[]> {
  const rows =
    dialect === 'postgres'
      ? await store.query<{ name: string }>(
          `SELECT quote_ident(schemaname) || '.' || quote_ident(indexname) AS name FROM pg_indexes
            WHERE schemaname = $1 AND tablename LIKE 'closealert\\_%' AND indexname LIKE '%\\_idx'`,
          [store.naming.schema],
        )
      : await store.query<{ name: string }>(
          `SELECT '"' || name || '"' AS name FROM sqlite_master WHERE type = 'index' AND tbl_name LIKE ? ESCAPE '\\' AND name LIKE '%\\_idx' ESCAPE '\\'`,
          [`${store.naming.tablePrefix.replaceAll('_', '\\_')}closealert\\_%`],
        );
  return rows.map((r) => r.name);
}

function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

export async function timeProfile(store: TypeOrmStore, name: string, iterations: number) {
  for (let i = 0; i < 3; i += 1) await store.evaluateProfile(WORKSPACE, name, { now: NOW, record: false });
  const times: number[] = [];
  let members = 0;
  for (let i = 0; i < iterations; i += 1) {
    const started = performance.now();
    members = (await store.evaluateProfile(WORKSPACE, name, { now: NOW, record: false })).members.length;
    times.push(performance.now() - started);
  }
  times.sort((a, b) => a - b);
  return {
    members,
    p50: Number(percentile(times, 50).toFixed(1)),
    p95: Number(percentile(times, 95).toFixed(1)),
  };
}

/**
 * A profile exported as CSV the way `profiles run --format csv` and the API's export stream it:
 * milliseconds to the first CSV row and to the last, p50 over `iterations` (not recorded).
 */
export async function timeStream(store: TypeOrmStore, name: string, iterations: number) {
  const firsts: number[] = [];
  const totals: number[] = [];
  // This process's CPU (the reader, the CSV, and SQLite's engine, which runs in it; not PostgreSQL's server).
  const cpus: number[] = [];
  let members = 0;
  let bytes = 0;
  for (let i = 0; i < iterations + 1; i += 1) {
    const started = performance.now();
    const cpuStarted = process.cpuUsage();
    let first: number | undefined;
    members = 0;
    bytes = 0;
    for await (const batch of store.streamProfile(WORKSPACE, name, { now: NOW, record: false, changes: false })) {
      let text = '';
      for (const m of batch)
        text += [m.email, m.customerId ?? m.contactId, m.contactId, m.responseId, m.formId, m.score, m.respondedAt.toISOString(), m.app].map(csvField).join(',') + '\r\n';
      first ??= performance.now() - started;
      members += batch.length;
      bytes += text.length;
    }
    // The first pass warms the caches, as timeProfile's do.
    if (i === 0) continue;
    firsts.push(first ?? performance.now() - started);
    totals.push(performance.now() - started);
    const cpu = process.cpuUsage(cpuStarted);
    cpus.push((cpu.user + cpu.system) / 1000);
  }
  firsts.sort((a, b) => a - b);
  totals.sort((a, b) => a - b);
  cpus.sort((a, b) => a - b);
  return {
    members,
    bytes,
    firstMs: Number(percentile(firsts, 50).toFixed(1)),
    totalMs: Number(percentile(totals, 50).toFixed(1)),
    cpuMs: Number(percentile(cpus, 50).toFixed(0)),
  };
}

async function benchOne(
  dialect: 'postgres' | 'sqlite',
  url: string,
  n: number,
): Promise<Record<string, string | number>> {
  const store = await createStore({
    url,
    cipher: createSecretCipher({ keys: { k: randomBytes(32) }, currentKeyId: 'k' }),
  });
  try {
    await store.migrate();
    const model = dataModelSchema.parse(closeAlertDataModel);
    const installation = await store.install({
      workspace: WORKSPACE,
      app: 'closealert',
      config: { projectKey: 'company.com', apiToken: 'bench-token', timeZone: 'UTC' },
      secretFields: ['apiToken'],
      mappings: validateMappings(closeAlertDefaultMappings, model),
      dataModel: model,
    });
    const indexes = await secondaryIndexes(store, dialect);
    const loadStarted = performance.now();
    if (dialect === 'postgres') await loadPostgres(url, store, installation.id, n, indexes);
    else await loadSqlite(url.slice('sqlite:'.length), store, installation.id, n, indexes);
    const loadSeconds = (performance.now() - loadStarted) / 1000;
    const indexStarted = performance.now();
    await store.provision(installation);
    const indexSeconds = (performance.now() - indexStarted) / 1000;
    if (dialect === 'postgres') {
      // What autovacuum does to a table this size soon after a load: statistics and the visibility map.
      const admin = new pg.Client({ connectionString: url });
      await admin.connect();
      await admin.query(
        `VACUUM ANALYZE ${store.appTable('closealert', 'form_responses')}, ${store.appTable('closealert', 'answers')}, ${store.appTable('closealert', 'contacts')}`,
      );
      await admin.end();
    }
    await store.createProfile(WORKSPACE, UNHAPPY);
    await store.createProfile(WORKSPACE, GAVE_FIVE);
    if (process.env.BENCH_PROFILES_PLAN) {
      for (const name of [UNHAPPY.name, GAVE_FIVE.name]) {
        console.error(
          `\n--- ${dialect}: plan of "${name}"\n${(await store.explainProfile(WORKSPACE, name, { now: NOW, analyze: dialect === 'postgres' })).join('\n')}`,
        );
      }
      console.error(
        `\n--- ${dialect}: plan of "${GAVE_FIVE.name}" streamed\n${(await store.explainProfile(WORKSPACE, GAVE_FIVE.name, { now: NOW, analyze: dialect === 'postgres', streamed: true })).join('\n')}`,
      );
    }
    const unhappy = await timeProfile(store, UNHAPPY.name, ITERATIONS);
    const five = await timeProfile(store, GAVE_FIVE.name, 5);
    const streamed = await timeStream(store, GAVE_FIVE.name, 5);
    const recordStarted = performance.now();
    await store.evaluateProfile(WORKSPACE, UNHAPPY.name, { now: NOW });
    const recordMs = performance.now() - recordStarted;
    return {
      benchmark: `profiles ${dialect}`,
      responses: n,
      answers: n * 3,
      'load s': Number(loadSeconds.toFixed(1)),
      'index s': Number(indexSeconds.toFixed(1)),
      'unhappy members': unhappy.members,
      'unhappy p50 ms': unhappy.p50,
      'unhappy p95 ms': unhappy.p95,
      'unhappy recorded ms': Number(recordMs.toFixed(1)),
      'target p50 ms': dialect === 'postgres' ? 20 : 100,
      'gave-5 members': five.members,
      'gave-5 p50 ms': five.p50,
      'gave-5 csv stream members': streamed.members,
      'gave-5 csv first row ms': streamed.firstMs,
      'gave-5 csv total ms': streamed.totalMs,
      'gave-5 csv process cpu ms': streamed.cpuMs,
      'target first row ms': 100,
      'target csv total ms': dialect === 'postgres' ? 500 : 1000,
    };
  } finally {
    await store.close();
  }
}

/** Runs the profile benchmark with `responses` responses on SQLite and, when reachable, PostgreSQL. */
export async function benchProfiles(responses: number): Promise<Record<string, string | number>[]> {
  const results: Record<string, string | number>[] = [];
  const dir = mkdtempSync(join(tmpdir(), 'tributary-bench-profiles-'));
  try {
    results.push(await benchOne('sqlite', `sqlite:${join(dir, 'bench.db')}`, responses));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  const postgres = await createPostgresTestDatabase('bench-profiles');
  if (postgres) {
    try {
      results.push(await benchOne('postgres', postgres.url, responses));
    } finally {
      await postgres.drop();
    }
  }
  return results;
}

/**
 * A store on `url` holding one CloseAlert installation in workspace `bench` with `responses` loaded
 * as above and its indexes built, for other benchmarks (the HTTP API's) to query. The caller closes it.
 */
export async function seedProfilesDatabase(dialect: 'postgres' | 'sqlite', url: string, responses: number): Promise<{ store: TypeOrmStore; installationId: string; workspace: string; now: Date; unhappy: ProfileDefinitionInput }> {
  const store = await createStore({ url, cipher: createSecretCipher({ keys: { k: randomBytes(32) }, currentKeyId: 'k' }) });
  await store.migrate();
  const model = dataModelSchema.parse(closeAlertDataModel);
  const installation = await store.install({
    workspace: WORKSPACE,
    app: 'closealert',
    config: { projectKey: 'company.com', apiToken: 'bench-token', timeZone: 'UTC' },
    secretFields: ['apiToken'],
    mappings: validateMappings(closeAlertDefaultMappings, model),
    dataModel: model,
  });
  const indexes = await secondaryIndexes(store, dialect);
  if (dialect === 'postgres') await loadPostgres(url, store, installation.id, responses, indexes);
  else await loadSqlite(url.slice('sqlite:'.length), store, installation.id, responses, indexes);
  await store.provision(installation);
  if (dialect === 'postgres') {
    const admin = new pg.Client({ connectionString: url });
    await admin.connect();
    await admin.query(`VACUUM ANALYZE ${store.appTable('closealert', 'form_responses')}, ${store.appTable('closealert', 'answers')}, ${store.appTable('closealert', 'contacts')}`);
    await admin.end();
  }
  return { store, installationId: installation.id, workspace: WORKSPACE, now: NOW, unhappy: UNHAPPY };
}
