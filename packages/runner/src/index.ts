export { runSync, type RunSyncOptions, type SyncResult, type SyncProgress } from './run-sync.js';
