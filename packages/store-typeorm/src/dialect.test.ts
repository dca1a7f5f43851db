import { describe, expect, it } from 'vitest';
import { databaseValue, dialectFor, fixedInList, postgresArrayLiteral, type InsertSpec } from './dialect.js';
import { ownTable } from './naming.js';
import { copyText, STAGING_MIN_ROWS } from './postgres-staging.js';

const postgres = dialectFor({ dialect: 'postgres', schema: 'tributary', tablePrefix: '' });
const sqlite = dialectFor({ dialect: 'sqlite', schema: '', tablePrefix: 'tributary_' });

function spec(dialectTable: InsertSpec['table'], rows: number, columns = 3): InsertSpec {
  return {
    table: dialectTable,
    columns: Array.from({ length: columns }, (_, i) => ({ name: `c${i}`, type: i === 0 ? 'uuid' : 'text' })),
    rows: Array.from({ length: rows }, (_, r) => Array.from({ length: columns }, (_, c) => `${r}:${c}`)),
    conflictKey: ['c0', 'c1'],
    onConflict: { action: 'update', columns: ['c2'], onlyIfChanged: true },
    returning: ['c1'],
  };
}

describe('bulk inserts', () => {
  it('PostgreSQL binds one array per column, whatever the number of rows', () => {
    const [statement, ...rest] = postgres.buildInsert(spec(ownTable(postgres.naming, 'app_t'), 1_000));
    expect(rest).toEqual([]);
    expect(statement!.sql).toBe(
      'INSERT INTO "tributary"."app_t" AS "target" ("c0", "c1", "c2") SELECT * FROM unnest($1::uuid[], $2::text[], $3::text[])' +
        ' ON CONFLICT ("c0", "c1") DO UPDATE SET "c2" = EXCLUDED."c2" WHERE ROW("target"."c2") IS DISTINCT FROM ROW(EXCLUDED."c2") RETURNING "c1", ("target"."xmax" = 0) AS "__inserted"',
    );
    expect(statement!.params).toHaveLength(3);
    expect(statement!.params[2]).toMatch(/^\{"0:2","1:2",.*,"999:2"\}$/);
  });

  it('PostgreSQL stages a large insert: COPY into a temporary table, then one merge with the same conflict handling', () => {
    const table = ownTable(postgres.naming, 'app_t');
    expect(postgres.stageInsert(spec(table, STAGING_MIN_ROWS - 1))).toBeUndefined();
    const staged = postgres.stageInsert(spec(table, 1_000))!;
    const stage = /^pg_temp\."tributary_stage_[0-9a-f]{24}"$/;
    expect(staged.lookup.params[0]).toMatch(stage);
    const name = staged.lookup.params[0] as string;
    expect(staged.create.sql).toBe(`CREATE TEMPORARY TABLE IF NOT EXISTS ${name} ("c0" uuid, "c1" text, "c2" text) ON COMMIT DELETE ROWS`);
    expect(staged.copy.sql).toBe(`COPY ${name} ("c0", "c1", "c2") FROM STDIN`);
    expect(staged.copy.text.split('\n')).toHaveLength(1_001);
    expect(staged.merge).toEqual({
      sql:
        `INSERT INTO "tributary"."app_t" AS "target" ("c0", "c1", "c2") SELECT "c0", "c1", "c2" FROM ${name}` +
        ' ON CONFLICT ("c0", "c1") DO UPDATE SET "c2" = EXCLUDED."c2" WHERE ROW("target"."c2") IS DISTINCT FROM ROW(EXCLUDED."c2") RETURNING "c1", ("target"."xmax" = 0) AS "__inserted"',
      params: [],
    });
    // Another shape of columns gets a staging table of its own; SQLite has no COPY.
    expect(postgres.stageInsert(spec(table, 1_000, 4))!.lookup.params[0]).not.toBe(name);
    expect(sqlite.stageInsert(spec(ownTable(sqlite.naming, 'app_t'), 1_000))).toBeUndefined();
  });

  it("COPY's text format escapes tabs, line ends and backslashes, and tells NULL from empty text", () => {
    const columns = [
      { name: 't', type: 'text' as const, ddl: 'text' },
      { name: 'j', type: 'json' as const, ddl: 'jsonb' },
      { name: 'n', type: 'numeric' as const, ddl: 'numeric' },
      { name: 'b', type: 'boolean' as const, ddl: 'boolean' },
    ];
    const text = copyText(
      columns,
      [
        ['a\tb\nc\rd\\e', '{"k":"v\\u0000w"}', 1.5, true],
        ['', null, null, false],
        ['\\N', '{"q":"say \\"hi\\""}', '12345678901234567890.5', null],
        ['x\u0000y', '[]', 0, true],
      ],
      (type, value) => postgres.bind(type, value),
    );
    expect(text).toBe(
      'a\\tb\\nc\\rd\\\\e\t{"k":"vw"}\t1.5\tt\n' +
        '\t\\N\t\\N\tf\n' +
        '\\\\N\t{"q":"say \\\\"hi\\\\""}\t12345678901234567890.5\t\\N\n' +
        'xy\t[]\t0\tt\n',
    );
    expect(copyText(columns, [], (_type, value) => value)).toBe('');
  });

  it('PostgreSQL array literals quote every value and escape quotes and backslashes', () => {
    expect(postgresArrayLiteral('text', ['a', 'say "hi"', 'C:\\x', '{a,b}', 'NULL', '', null])).toBe(
      '{"a","say \\"hi\\"","C:\\\\x","{a,b}","NULL","",NULL}',
    );
    expect(postgresArrayLiteral('text', ['a\u0000b'])).toBe('{"ab"}');
    expect(postgresArrayLiteral('json', ['{"k":"v\\u0000w"}'])).toBe('{"{\\"k\\":\\"vw\\"}"}');
    expect(postgresArrayLiteral('bigint', [1, '9223372036854775807', null])).toBe('{1,"9223372036854775807",NULL}');
    expect(postgresArrayLiteral('boolean', [true, false, null])).toBe('{t,f,NULL}');
    expect(postgresArrayLiteral('text', [])).toBe('{}');
  });

  it('SQLite inserts come in a few fixed sizes, so that few statements are ever prepared', () => {
    const sizes = (rows: number, columns = 3) =>
      sqlite.buildInsert(spec(ownTable(sqlite.naming, 'app_t'), rows, columns)).map((s) => s.params.length / columns);
    expect(sizes(1_000)).toEqual([256, 256, 256, 32, 32, 32, 32, 32, 32, 32, 4, 4]);
    expect(sizes(3)).toEqual([1, 1, 1]);
    const texts = new Set<string>();
    for (let rows = 1; rows <= 600; rows++) for (const s of sqlite.buildInsert(spec(ownTable(sqlite.naming, 'app_t'), rows))) texts.add(s.sql);
    expect(texts.size).toBe(4);
    // A wide table keeps every statement under the bound-parameter limit.
    expect(Math.max(...sizes(300, 200))).toBe(32);
  });

  it('pads look-up IN lists to a few fixed sizes with a value already in them', () => {
    expect(fixedInList(['a'])).toEqual(['a']);
    expect(fixedInList(['a', 'b'])).toEqual(['a', 'b', 'b', 'b', 'b', 'b', 'b', 'b']);
    expect(fixedInList(Array.from({ length: 65 }, (_, i) => i))).toHaveLength(512);
    expect(fixedInList([])).toEqual([]);
    expect(() => fixedInList(Array.from({ length: 513 }, (_, i) => i))).toThrow(RangeError);
  });

  it('SQLite stays under the bound-parameter limit', () => {
    const statements = sqlite.buildInsert(spec(ownTable(sqlite.naming, 'app_t'), 20_000, 10));
    expect(statements.length).toBeGreaterThan(1);
    for (const statement of statements) expect(statement.params.length).toBeLessThanOrEqual(32_766);
    expect(statements.reduce((sum, s) => sum + s.params.length, 0)).toBe(200_000);
    expect(statements[0]!.sql).toMatch(
      /^INSERT INTO "tributary_app_t" \("c0", .*\) VALUES \(\?, .*\) ON CONFLICT \("c0", "c1"\) DO UPDATE SET "c2" = excluded\."c2" WHERE NOT \("c2" IS excluded\."c2"\) RETURNING "c1"$/,
    );
  });

  it('a plain insert has no conflict clause', () => {
    const [statement] = sqlite.buildInsert({ ...spec(ownTable(sqlite.naming, 'runs'), 1), conflictKey: [], returning: [] });
    expect(statement!.sql).toBe('INSERT INTO "tributary_runs" ("c0", "c1", "c2") VALUES (?, ?, ?)');
  });

  it('converts values each database cannot bind as they are', () => {
    expect(sqlite.bind('boolean', true)).toBe(1);
    expect(sqlite.bind('numeric', '1.50')).toBe(1.5);
    expect(sqlite.bind('bigint', '9223372036854775807')).toBe(9223372036854775807n);
    expect(postgres.bind('text', 'a\u0000b')).toBe('ab');
    expect(postgres.bind('json', '{"a":"x\\u0000y"}')).toBe('{"a":"xy"}');
    expect(postgres.bind('numeric', '1.50')).toBe('1.50');
  });

  it('gives the profile engine values as the columns hold them', () => {
    expect(databaseValue('sqlite', 'timestamp', '2024-05-01 12:00:00+02:00')).toBe('2024-05-01T10:00:00.000Z');
    expect(databaseValue('sqlite', 'boolean', false)).toBe(0);
    expect(databaseValue('postgres', 'boolean', false)).toBe(false);
    expect(() => databaseValue('postgres', 'integer', 'x')).toThrow(TypeError);
  });
});
