import { identifierSchema, parseUserInput } from '@tributary/core';
import { CoreStore } from './core-store.js';
import { storageFailure } from './errors.js';
import { appTableName, type DialectName, type TableNaming } from './naming.js';
import type { TypeOrmStore } from './typeorm-store.js';
// ---- Destinations ----
import type { Activation, ClaimedDelivery, DeliveryRecord, DeliveryResult, DeliveryStatus, NewDestination, StoredDestination } from '@tributary/core';
import { viewSqlName } from './destinations/views.js';
// ---- Personal data: find, forget, retention ----
import type { CustomerDataReport, Erasure, ErasureReceipt, RetentionResult } from '@tributary/core';
import { applyRetention } from './retention.js';

// The TypeORM store: core's Store port (core-store.ts) plus what TypeOrmStore adds to it, the
// destination, personal-data and retention roles and what the profile compiler and operators need.

/** The TypeORM store, given its parts (see createStore). */
export class TypeOrmStoreImpl extends CoreStore implements TypeOrmStore {
  readonly dialect: DialectName = this.db.dialect.name;
  readonly naming: TableNaming = this.db.dialect.naming;
  readonly database: string = this.db.target.description;

  appTable(app: string, table: string): string {
    return appTableName(this.naming, parseUserInput(identifierSchema, app, 'app id'), parseUserInput(identifierSchema, table, 'table name'));
  }

  revertLastMigration(): Promise<void> {
    return this.db.revertLastMigration();
  }

  pendingMigrations(): Promise<string[]> {
    return this.db.pendingMigrations();
  }

  async query<T = Record<string, unknown>>(sql: string, params: readonly unknown[] = []): Promise<T[]> {
    try {
      return await this.db.readOnly((db) => db.query<T>(sql, params));
    } catch (error) {
      throw storageFailure('run a query', error);
    }
  }

  // ---- Profiles ----
  explainProfile(workspace: string, name: string, options?: { now?: Date; analyze?: boolean; app?: string; streamed?: boolean }): Promise<string[]> {
    return this.profiles.explain(workspace, name, options);
  }

  // ---- Destinations ----
  addDestination(destination: NewDestination, now: Date): Promise<StoredDestination> {
    return this.destinations.add(destination, now);
  }

  listDestinations(workspace?: string): Promise<StoredDestination[]> {
    return this.destinations.list(workspace);
  }

  getDestination(workspace: string, name: string): Promise<StoredDestination | undefined> {
    return this.destinations.get(workspace, name);
  }

  removeDestination(workspace: string, name: string): Promise<boolean> {
    return this.destinations.remove(workspace, name);
  }

  activateProfile(workspace: string, profile: string, destination: string, now: Date): Promise<Activation> {
    return this.destinations.activate(workspace, profile, destination, now);
  }

  deactivateProfile(workspace: string, profile: string, destination: string): Promise<boolean> {
    return this.destinations.deactivate(workspace, profile, destination);
  }

  listActivations(workspace?: string): Promise<Activation[]> {
    return this.destinations.activations(workspace);
  }

  claimDeliveries(options: { now: Date; limit: number; leaseMs: number }): Promise<ClaimedDelivery[]> {
    return this.destinations.claim(options);
  }

  finishDelivery(id: string, result: DeliveryResult, at: Date): Promise<void> {
    return this.destinations.finish(id, result, at);
  }

  listDeliveries(filter: { workspace?: string; status?: DeliveryStatus; limit: number; before?: string }): Promise<DeliveryRecord[]> {
    return this.destinations.deliveries(filter);
  }

  enqueueForgetLeft(workspace: string, email: string, now: Date): Promise<number> {
    return this.destinations.forgetLeft(workspace, email, now);
  }

  viewName(bareName: string): string {
    return viewSqlName(this.db.dialect, bareName);
  }

  // ---- Personal data: find, forget, retention ----
  findCustomer(email: string, options: { workspace?: string }): Promise<CustomerDataReport> {
    return this.personalData.find(email, options);
  }

  forgetCustomer(email: string, options: { workspace?: string; actor?: string; at: Date }): Promise<Erasure> {
    return this.personalData.forget(email, options);
  }

  async liftErasure(receiptId: string, options: { actor?: string; at: Date }): Promise<ErasureReceipt> {
    return (await this.personalData.lift(receiptId, options)).receipt;
  }

  listErasureReceipts(): Promise<ErasureReceipt[]> {
    return this.personalData.list();
  }

  applyRetention(installationId: string, now: Date, options?: { batchSize?: number }): Promise<RetentionResult> {
    return applyRetention(this.db, installationId, now, options);
  }
}
