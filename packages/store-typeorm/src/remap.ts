import { z } from 'zod';
import {
  ConfigError,
  findTable,
  identifierSchema,
  parseUserInput,
  type CellValue,
  type ColumnType,
  type MappedRows,
  type RewriteResult,
  type Row,
  type RowBatch,
  type RowQuery,
} from '@tributary/core';
import { appTableOf } from './app-tables.js';
import type { Database } from './database.js';
import type { Dialect } from './dialect.js';
import { storageFailure } from './errors.js';
import { isStoreId, notFound, storedDataModel } from './installation-checks.js';
import type { Installations } from './installations.js';
import { quoteIdentifier as q } from './naming.js';
import { validatePageWrite, writeAppRows } from './page-writer.js';
import { canonicalValue, CellTypeError } from './values.js';

const rowQuerySchema = z.object({
  table: identifierSchema,
  columns: z.array(identifierSchema).max(200),
  after: z.array(z.union([z.string(), z.number(), z.boolean(), z.null()])).optional(),
  limit: z.number().int().min(1).max(10_000),
});

/** A value read back from the database in the form mappings produce (see core's CellValue). */
function cellOf(type: ColumnType, value: unknown): CellValue {
  if (value === null || value === undefined) return null;
  switch (type) {
    case 'json':
      return typeof value === 'string' ? value : JSON.stringify(value);
    case 'timestamp':
      return value instanceof Date ? value.toISOString() : String(value);
    case 'boolean':
      return typeof value === 'boolean' ? value : Number(value) !== 0;
    case 'integer':
    case 'bigint':
    case 'numeric': {
      if (typeof value === 'number') return value;
      // PostgreSQL hands bigint and numeric over as text; keep digits a double would lose as text.
      const n = Number(value);
      return Number.isSafeInteger(n) || (type === 'numeric' && Number.isFinite(n)) ? n : String(value);
    }
    case 'text':
      return String(value);
  }
}

/** Reading an installation's stored rows back and rewriting them: what remapping needs from the store. */
export class StoredRows {
  constructor(
    private readonly db: Database,
    private readonly installations: Installations,
  ) {}

  private get dialect(): Dialect {
    return this.db.dialect;
  }

  async read(installationId: string, input: RowQuery): Promise<RowBatch> {
    const query = parseUserInput(rowQuerySchema, input, 'row query');
    if (!isStoreId(installationId)) throw notFound(installationId);
    try {
      return await this.db.withConnection(async (db) => {
        const row = await db.manager
          .getRepository(this.dialect.entities.Installation)
          .findOneBy({ id: installationId });
        if (!row) throw notFound(installationId);
        const model = storedDataModel(row.dataModel, `Installation ${installationId}`);
        const spec = findTable(model, query.table);
        if (!spec)
          throw new ConfigError(
            'TABLE_UNKNOWN',
            `The data model of installation ${installationId} has no table "${query.table}".`,
          );
        const columns = [...new Set([...spec.key, ...query.columns])].map((name) => {
          const column = spec.columns.find((c) => c.name === name);
          if (!column)
            throw new ConfigError('COLUMN_UNKNOWN', `Table "${spec.name}" has no column "${name}".`);
          return column;
        });
        const keyColumns = columns.slice(0, spec.key.length);
        const table = appTableOf(this.dialect, row.app, model, spec);
        const params: unknown[] = [installationId];
        const bind = (value: unknown) => {
          params.push(value);
          return this.dialect.placeholder(params.length);
        };
        let where = `"installation_id" = ${this.dialect.placeholder(1)}`;
        if (query.after !== undefined) {
          if (query.after.length !== keyColumns.length) {
            throw new ConfigError(
              'ROW_QUERY_INVALID',
              `"after" must hold the ${keyColumns.length} key value(s) of table "${spec.name}".`,
            );
          }
          const bound = keyColumns.map((column, i) => {
            try {
              return bind(this.dialect.bind(column.type, canonicalValue(column.type, query.after![i])));
            } catch (error) {
              if (error instanceof CellTypeError)
                throw new ConfigError(
                  'ROW_QUERY_INVALID',
                  `"after" does not fit key column ${spec.name}.${column.name}.`,
                );
              throw error;
            }
          });
          // Row-value comparison: keyset pagination over a key of any width, on both databases.
          where += ` AND (${keyColumns.map((c) => q(c.name)).join(', ')}) > (${bound.join(', ')})`;
        }
        const records = await db.query<Record<string, unknown>>(
          `SELECT ${columns.map((c) => q(c.name)).join(', ')} FROM ${table.table.sql} WHERE ${where}
            ORDER BY ${keyColumns.map((c) => q(c.name)).join(', ')} LIMIT ${query.limit}`,
          params,
        );
        const rows: Row[] = records.map((record) =>
          Object.fromEntries(columns.map((c) => [c.name, cellOf(c.type, record[c.name])])),
        );
        const last = rows.at(-1);
        return {
          rows,
          ...(last && rows.length === query.limit
            ? { after: keyColumns.map((c) => last[c.name] ?? null) }
            : {}),
        };
      });
    } catch (error) {
      throw storageFailure(
        `read the rows of table "${query.table}" of installation ${installationId}`,
        error,
      );
    }
  }

  async rewrite(installationId: string, rows: MappedRows): Promise<RewriteResult> {
    validatePageWrite({
      installationId,
      runId: 'rewrite',
      stream: 'rewrite',
      rows,
      rejected: [],
      checkpoint: null,
    });
    try {
      return await this.db.transaction(async (tx) => {
        // The same lock as a page write: a sync and a remap of one installation never interleave.
        const row = await this.installations.lockedRow(tx, installationId);
        if (row.status !== 'active') {
          throw new ConfigError(
            'INSTALLATION_NOT_ACTIVE',
            `Installation ${row.id} is uninstalled; its rows are no longer rewritten.`,
          );
        }
        const model = storedDataModel(row.dataModel, `Installation ${row.id}`);
        const unknown = Object.keys(rows).filter((name) => !findTable(model, name));
        if (unknown.length > 0) {
          throw new ConfigError(
            'TABLE_UNKNOWN',
            `Rows for table(s) ${unknown.join(', ')}, which the data model does not declare.`,
          );
        }
        const { tables, newContacts } = await writeAppRows(
          tx,
          this.dialect,
          row.app,
          model,
          installationId,
          rows,
          {
            now: new Date().toISOString(),
            rewrite: true,
          },
        );
        const result: RewriteResult = { tables, newContacts };
        return result;
      });
    } catch (error) {
      throw storageFailure(`rewrite the rows of installation ${installationId}`, error, 'STORE_WRITE_FAILED');
    }
  }
}
