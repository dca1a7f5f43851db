import { EntitySchema, type ColumnType, type ValueTransformer } from 'typeorm';

// TypeORM entities of Tributary's own tables. The DDL lives in the migrations (synchronize is off);
// these definitions only tell TypeORM how to read and write rows, so every column names its type
// explicitly (tsx/esbuild emit no decorator metadata to infer it from).

/** A workspace: the tenant apps are installed in. */
export interface WorkspaceRow {
  id: string;
  name: string;
  createdAt: Date;
}

// JSON columns are typed `object`: their content is validated with zod when read back.

/** An installed app, without its secrets. */
export interface InstallationRow {
  id: string;
  workspaceId: string;
  app: string;
  status: 'active' | 'uninstalled';
  config: object;
  dataModel: object;
  mappings: object;
  customerTable: object | null;
  createdAt: Date;
  updatedAt: Date;
  uninstalledAt: Date | null;
  // ---- App lifecycle: billing (migration 1764201800000) ----
  billingPlan: 'monthly' | 'yearly';
  billingPo: string | null;
  // ---- Purge and reattach (migration 1764500200000) ----
  purgedAt: Date | null;
  // ---- Connector plugins (migration 1764500500000) ----
  connectorVersion: string | null;
  // ---- Personal data: retention (migration 1764600600000) ----
  retentionDays: number | null;
}

/** One encrypted secret field of an installation's config. */
export interface InstallationSecretRow {
  installationId: string;
  name: string;
  keyId: string;
  iv: string;
  ciphertext: string;
  tag: string;
  updatedAt: Date;
}

/** How far a stream of an installation has come. */
export interface CheckpointRow {
  installationId: string;
  stream: string;
  value: unknown;
  updatedAt: Date;
}

/** One sync run, as the log shows it. */
export interface RunRow {
  id: string;
  installationId: string;
  startedAt: Date;
  finishedAt: Date | null;
  status: 'running' | 'succeeded' | 'failed' | 'stopped' | 'abandoned';
  fetched: number;
  inserted: number;
  unchanged: number;
  rejected: number;
  saved: object;
  error: string | null;
  errorCode: string | null;
  warnings: object;
  /** Counts beyond the fixed columns (see the RunTallies migration). */
  tallies: object;
}

/** A source record a run set aside, with the reason. */
export interface RejectedRecordRow {
  id: string;
  runId: string;
  installationId: string;
  sourceId: string | null;
  reason: string;
  raw: unknown;
  createdAt: Date;
}

/** An app table Tributary created, so that it only ever alters tables of its own. */
export interface ProvisionedTableRow {
  tableName: string;
  app: string;
  createdAt: Date;
}

/** How a dialect stores the few kinds of columns of Tributary's own tables. */
export interface EntityColumnTypes {
  uuid: ColumnType;
  text: ColumnType;
  integer: ColumnType;
  bigint: ColumnType;
  json: ColumnType;
  timestamp: ColumnType;
  /** Converts timestamps where the dialect has no timestamp type. */
  timestampTransformer?: ValueTransformer;
}

/** Tributary's own entities, built for one dialect's column types. */
export function defineEntities(types: EntityColumnTypes) {
  const timestamp = (nullable = false) => ({
    type: types.timestamp,
    nullable,
    ...(types.timestampTransformer ? { transformer: types.timestampTransformer } : {}),
  });

  const Workspace = new EntitySchema<WorkspaceRow>({
    name: 'Workspace',
    tableName: 'workspaces',
    columns: {
      id: { type: types.uuid, primary: true },
      name: { type: types.text },
      createdAt: { ...timestamp(), name: 'created_at' },
    },
  });

  const Installation = new EntitySchema<InstallationRow>({
    name: 'Installation',
    tableName: 'installations',
    columns: {
      id: { type: types.uuid, primary: true },
      workspaceId: { type: types.uuid, name: 'workspace_id' },
      app: { type: types.text },
      status: { type: types.text },
      config: { type: types.json },
      dataModel: { type: types.json, name: 'data_model' },
      mappings: { type: types.json },
      customerTable: { type: types.json, name: 'customer_table', nullable: true },
      createdAt: { ...timestamp(), name: 'created_at' },
      updatedAt: { ...timestamp(), name: 'updated_at' },
      uninstalledAt: { ...timestamp(true), name: 'uninstalled_at' },
      // ---- App lifecycle: billing (migration 1764201800000) ----
      billingPlan: { type: types.text, name: 'billing_plan' },
      billingPo: { type: types.text, nullable: true, name: 'billing_po' },
      // ---- Purge and reattach (migration 1764500200000) ----
      purgedAt: { ...timestamp(true), name: 'purged_at' },
      // ---- Connector plugins (migration 1764500500000) ----
      connectorVersion: { type: types.text, nullable: true, name: 'connector_version' },
      // ---- Personal data: retention (migration 1764600600000) ----
      retentionDays: { type: types.integer, nullable: true, name: 'retention_days' },
    },
  });

  const InstallationSecret = new EntitySchema<InstallationSecretRow>({
    name: 'InstallationSecret',
    tableName: 'installation_secrets',
    columns: {
      installationId: { type: types.uuid, primary: true, name: 'installation_id' },
      name: { type: types.text, primary: true },
      keyId: { type: types.text, name: 'key_id' },
      iv: { type: types.text },
      ciphertext: { type: types.text },
      tag: { type: types.text },
      updatedAt: { ...timestamp(), name: 'updated_at' },
    },
  });

  const Checkpoint = new EntitySchema<CheckpointRow>({
    name: 'Checkpoint',
    tableName: 'checkpoints',
    columns: {
      installationId: { type: types.uuid, primary: true, name: 'installation_id' },
      stream: { type: types.text, primary: true },
      value: { type: types.json },
      updatedAt: { ...timestamp(), name: 'updated_at' },
    },
  });

  const Run = new EntitySchema<RunRow>({
    name: 'Run',
    tableName: 'runs',
    columns: {
      id: { type: types.uuid, primary: true },
      installationId: { type: types.uuid, name: 'installation_id' },
      startedAt: { ...timestamp(), name: 'started_at' },
      finishedAt: { ...timestamp(true), name: 'finished_at' },
      status: { type: types.text },
      fetched: { type: types.integer },
      inserted: { type: types.integer },
      unchanged: { type: types.integer },
      rejected: { type: types.integer },
      saved: { type: types.json },
      error: { type: types.text, nullable: true },
      errorCode: { type: types.text, nullable: true, name: 'error_code' },
      warnings: { type: types.json },
      tallies: { type: types.json },
    },
  });

  const RejectedRecord = new EntitySchema<RejectedRecordRow>({
    name: 'RejectedRecord',
    tableName: 'rejected_records',
    columns: {
      id: { type: types.bigint, primary: true, generated: 'increment' },
      runId: { type: types.uuid, name: 'run_id' },
      installationId: { type: types.uuid, name: 'installation_id' },
      sourceId: { type: types.text, nullable: true, name: 'source_id' },
      reason: { type: types.text },
      raw: { type: types.json, nullable: true },
      createdAt: { ...timestamp(), name: 'created_at' },
    },
  });

  const ProvisionedTable = new EntitySchema<ProvisionedTableRow>({
    name: 'ProvisionedTable',
    tableName: 'provisioned_tables',
    columns: {
      tableName: { type: types.text, primary: true, name: 'table_name' },
      app: { type: types.text },
      createdAt: { ...timestamp(), name: 'created_at' },
    },
  });

  return { Workspace, Installation, InstallationSecret, Checkpoint, Run, RejectedRecord, ProvisionedTable };
}

/** The entity set of one dialect. */
export type Entities = ReturnType<typeof defineEntities>;
