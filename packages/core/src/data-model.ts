import { z } from 'zod';
import { feedbackViewColumns, feedbackViewSchema } from './feedback-view.js';
import { identifierSchema } from './identifiers.js';

/** Column types a connector may declare; each store maps them to its dialect in one place. */
export const COLUMN_TYPES = ['text', 'integer', 'bigint', 'numeric', 'boolean', 'timestamp', 'json'] as const;
/** A declared column type. */
export type ColumnType = (typeof COLUMN_TYPES)[number];

/** A column of an app table. */
export const columnSpecSchema = z.object({
  /** Column name, a safe identifier. */
  name: identifierSchema,
  /** Declared type, mapped to the dialect by the store. */
  type: z.enum(COLUMN_TYPES),
  /** Whether the column accepts NULL. Key columns never do. */
  nullable: z.boolean().default(true),
  /** What the column holds, for the README and `mappings list`. */
  description: z.string().default(''),
});
/** A column of an app table. */
export type ColumnSpec = z.infer<typeof columnSpecSchema>;

/**
 * Where a table's rows come from: one row per source record, or one row per element of an array
 * inside the record (an answer per element of `answers`, say).
 */
export const rowSourceSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('record') }),
  z.object({ kind: z.literal('each'), path: z.string().min(1) }),
]);
/** Where a table's rows come from. */
export type RowSource = z.infer<typeof rowSourceSchema>;

/** A table the app owns, declared as data; the store turns it into DDL. */
export const tableSpecSchema = z.object({
  /** Table name without schema or prefix; the store adds those. */
  name: identifierSchema,
  /** What a row is, for documentation. */
  description: z.string().default(''),
  /** One row per record, or one per element of an array in the record. */
  rowsFrom: rowSourceSchema,
  /** Columns of the natural key (the store adds the installation id in front). */
  key: z.array(identifierSchema).min(1),
  /**
   * What a row with a known key does: `ignore` for immutable facts (responses, answers),
   * `update` for reference data whose attributes change (form names, question texts).
   */
  onConflict: z.enum(['ignore', 'update']),
  /** Every column, key columns included. */
  columns: z.array(columnSpecSchema).min(1),
  /** Secondary indexes, each a list of columns (the store adds the installation id in front). */
  indexes: z.array(z.array(identifierSchema).min(1)).default([]),
});
/** A table the app owns. */
export type TableSpec = z.infer<typeof tableSpecSchema>;

/** The data model a connector needs, declared as data. */
export const dataModelSchema = z
  .object({
    /** The app's tables. */
    tables: z.array(tableSpecSchema).min(1),
    /** The table holding one row per source record; its inserts are what a run counts as new. */
    primaryTable: identifierSchema,
    /** The column of the primary table that holds the normalized e-mail linking a row to a customer. */
    customerEmailColumn: identifierSchema.optional(),
    /** Which columns are feedback, by role: what profiles read. Absent when the app holds no feedback. */
    feedback: feedbackViewSchema.optional(),
  })
  .superRefine((model, ctx) => {
    const names = new Set<string>();
    model.tables.forEach((table, t) => {
      if (names.has(table.name)) {
        ctx.addIssue({ code: 'custom', path: ['tables', t, 'name'], message: `table "${table.name}" is declared twice` });
      }
      names.add(table.name);
      const columns = new Map(table.columns.map((c) => [c.name, c]));
      if (columns.size !== table.columns.length) {
        ctx.addIssue({ code: 'custom', path: ['tables', t, 'columns'], message: `table "${table.name}" declares a column twice` });
      }
      for (const k of table.key) {
        const column = columns.get(k);
        if (!column) {
          ctx.addIssue({ code: 'custom', path: ['tables', t, 'key'], message: `key column "${k}" is not a column of "${table.name}"` });
        } else if (column.nullable) {
          ctx.addIssue({ code: 'custom', path: ['tables', t, 'key'], message: `key column "${table.name}.${k}" must not be nullable` });
        }
      }
      table.indexes.forEach((index, i) => {
        for (const c of index) {
          if (!columns.has(c)) {
            ctx.addIssue({ code: 'custom', path: ['tables', t, 'indexes', i], message: `index column "${c}" is not a column of "${table.name}"` });
          }
        }
      });
    });
    const primary = model.tables.find((t) => t.name === model.primaryTable);
    if (!primary) {
      ctx.addIssue({ code: 'custom', path: ['primaryTable'], message: `primary table "${model.primaryTable}" is not declared` });
    } else if (primary.rowsFrom.kind !== 'record') {
      ctx.addIssue({ code: 'custom', path: ['primaryTable'], message: 'the primary table must hold one row per record' });
    } else if (model.customerEmailColumn && !primary.columns.some((c) => c.name === model.customerEmailColumn)) {
      ctx.addIssue({
        code: 'custom',
        path: ['customerEmailColumn'],
        message: `"${model.customerEmailColumn}" is not a column of "${model.primaryTable}"`,
      });
    }
    if (model.feedback) {
      for (const { path, table, column } of feedbackViewColumns(model.feedback)) {
        const spec = model.tables.find((t) => t.name === table);
        if (!spec) {
          ctx.addIssue({ code: 'custom', path: ['feedback', ...path.split('.')], message: `feedback ${path} names table "${table}", which is not declared` });
        } else if (!spec.columns.some((c) => c.name === column)) {
          ctx.addIssue({ code: 'custom', path: ['feedback', ...path.split('.')], message: `feedback ${path} names "${column}", which is not a column of "${table}"` });
        }
      }
      const time = model.tables.find((t) => t.name === model.feedback!.responses.table)?.columns.find((c) => c.name === model.feedback!.responses.time);
      if (time && time.type !== 'timestamp') {
        ctx.addIssue({ code: 'custom', path: ['feedback', 'responses', 'time'], message: `feedback responses.time must be a timestamp column; "${time.name}" is ${time.type}` });
      }
    }
  });
/** The data model a connector needs, declared as data. */
export type DataModel = z.infer<typeof dataModelSchema>;
/** A data model as a connector writes it, before defaults are filled in. */
export type DataModelInput = z.input<typeof dataModelSchema>;

/** Finds a table of the model, or undefined. */
export function findTable(model: DataModel, name: string): TableSpec | undefined {
  return model.tables.find((t) => t.name === name);
}

/**
 * The stored data model of an installation made before its connector declared a feedback view,
 * with the connector's view added (so that profiles read it), or undefined when there is nothing to
 * adopt: the stored model has a view (an operator's or an older one stays), the connector declares
 * none, or its view names columns the stored model lacks.
 */
export function withDeclaredFeedbackView(stored: DataModel, declared: DataModel): DataModel | undefined {
  if (stored.feedback !== undefined || declared.feedback === undefined) return undefined;
  const adopted = dataModelSchema.safeParse({ ...stored, feedback: declared.feedback });
  return adopted.success ? adopted.data : undefined;
}

/**
 * What an installation's stored data model takes from its connector's at a sync, or undefined when
 * nothing: the feedback view ({@link withDeclaredFeedbackView}), and the indexes the connector now
 * declares on a table both models have, over columns the stored table has. An index changes no row
 * and no result, only how fast profiles read; the store builds the new ones when the model is saved.
 */
export function adoptDeclaredModel(stored: DataModel, declared: DataModel): DataModel | undefined {
  const viewed = withDeclaredFeedbackView(stored, declared);
  const base = viewed ?? stored;
  let added = false;
  const tables = base.tables.map((table) => {
    const theirs = findTable(declared, table.name);
    if (!theirs) return table;
    const columns = new Set(table.columns.map((c) => c.name));
    const known = new Set(table.indexes.map((index) => index.join(',')));
    const more = theirs.indexes.filter((index) => !known.has(index.join(',')) && index.every((c) => columns.has(c)));
    if (more.length === 0) return table;
    added = true;
    return { ...table, indexes: [...table.indexes, ...more] };
  });
  if (!added) return viewed;
  const adopted = dataModelSchema.safeParse({ ...base, tables });
  return adopted.success ? adopted.data : viewed;
}
