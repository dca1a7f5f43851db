import {
  applyMappings,
  compileMappings,
  ConfigError,
  findTable,
  silentLogger,
  validateMappings,
  type CellValue,
  type ConnectorDefinition,
  type Installation,
  type Logger,
  type MappedRows,
  type MappingMeta,
  type AppDataStore,
  type TableWriteCounts,
} from '@tributary/core';

/** What {@link remapStoredRecords} needs. */
export interface RemapOptions {
  store: AppDataStore;
  /** The installation, with the mappings and data model to apply. */
  installation: Installation;
  /** Its connector: the source fields the mappings are checked against, and the time zone of timestamps. */
  connector: ConnectorDefinition;
  /** Records per batch (one read and one transaction each); default 1000. */
  batchSize?: number;
  logger?: Logger;
  /** Stops between batches; the batches written stay written. */
  signal?: AbortSignal;
  /** Called after each batch with the records done so far. */
  onProgress?: (records: number) => void;
}

/** What a remap did. */
export interface RemapResult {
  /** Stored records the mappings were applied to. */
  records: number;
  /** Stored rows without a raw record, left as they were. */
  skipped: number;
  /** Per table: rows inserted, rewritten because a value changed, and left unchanged. */
  tables: Record<string, TableWriteCounts>;
  newContacts: number;
  /** Whether it stopped early because it was asked to. */
  interrupted: boolean;
}

/** Where an installation keeps each record as received: the primary-table column the `$record` mapping feeds. */
export function rawRecordColumn(installation: Installation): string {
  const model = installation.dataModel;
  const candidates = installation.mappings.filter(
    (m) =>
      m.source === '$record' &&
      m.target.table === model.primaryTable &&
      findTable(model, model.primaryTable)?.columns.some((c) => c.name === m.target.column && c.type === 'json'),
  );
  const mapping = candidates.find((m) => m.enabled) ?? candidates[0];
  if (!mapping) {
    throw new ConfigError('REMAP_NO_RAW_RECORDS', `Installation ${installation.id} keeps no raw records: no mapping stores "$record" in a json column of "${model.primaryTable}".`, {
      hint: `Reset the mappings (tributary mappings reset ${installation.app} --workspace ${installation.workspace}) so that raw records are kept; records synced from then on can be remapped.`,
    });
  }
  return mapping.target.column;
}

function addCounts(into: Record<string, TableWriteCounts>, from: Record<string, TableWriteCounts>): void {
  for (const [table, counts] of Object.entries(from)) {
    const total = (into[table] ??= { inserted: 0, updated: 0, unchanged: 0 });
    total.inserted += counts.inserted;
    total.updated += counts.updated;
    total.unchanged += counts.unchanged;
  }
}

/**
 * Applies an installation's current mappings again to the records it stored as received (the raw
 * column of its primary table), without calling the source: reads them in key order a batch at a
 * time and rewrites every table's rows with overwrite semantics. Values that came from the run
 * rather than the record (`$meta.backfill`) are read back from the stored row and kept. Rows that
 * the current mappings no longer produce are left in place.
 */
export async function remapStoredRecords(options: RemapOptions): Promise<RemapResult> {
  const { store, installation, connector } = options;
  const logger = (options.logger ?? silentLogger()).child({ workspace: installation.workspace, app: installation.app, component: 'remap' });
  const model = installation.dataModel;
  const mappings = validateMappings(installation.mappings, model, connector.sourceFields);
  const compiled = compileMappings(mappings, model);
  const rawColumn = rawRecordColumn(installation);
  const metaColumns = mappings
    .filter((m) => m.enabled && m.target.table === model.primaryTable && m.source.startsWith('$meta.'))
    .map((m) => ({ name: m.source.slice('$meta.'.length), column: m.target.column }));
  const config = connector.configSchema.safeParse(installation.config);
  const timeZone = (config.success ? connector.timeZoneOf?.(config.data) : undefined) ?? 'UTC';
  const batchSize = options.batchSize ?? 1000;

  const result: RemapResult = { records: 0, skipped: 0, tables: {}, newContacts: 0, interrupted: false };
  let after: CellValue[] | undefined;
  do {
    if (options.signal?.aborted) {
      result.interrupted = true;
      break;
    }
    const batch = await store.readRows(installation.id, {
      table: model.primaryTable,
      columns: [rawColumn, ...metaColumns.map((m) => m.column)],
      ...(after ? { after } : {}),
      limit: batchSize,
    });
    after = batch.after;
    const rows: MappedRows = {};
    for (const row of batch.rows) {
      const raw = row[rawColumn];
      if (typeof raw !== 'string') {
        result.skipped += 1;
        continue;
      }
      const meta = { backfill: false, timeZone } as MappingMeta;
      for (const { name, column } of metaColumns) meta[name] = row[column] ?? null;
      // One record at a time keeps each record's own run values and the key order of the batch.
      const mapped = applyMappings([JSON.parse(raw) as unknown], compiled, meta);
      for (const [table, tableRows] of Object.entries(mapped)) (rows[table] ??= []).push(...tableRows);
      result.records += 1;
    }
    if (Object.values(rows).some((r) => r.length > 0)) {
      const written = await store.rewriteRows(installation.id, rows);
      addCounts(result.tables, written.tables);
      result.newContacts += written.newContacts;
    }
    logger.debug({ records: result.records }, 'remap batch written');
    options.onProgress?.(result.records);
  } while (after !== undefined);
  logger.info({ records: result.records, skipped: result.skipped }, 'remap finished');
  return result;
}
