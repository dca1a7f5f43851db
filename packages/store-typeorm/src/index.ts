export { createStore } from './create-store.js';
export type { StoreOptions } from './store-options.js';
export type { TypeOrmStore } from './typeorm-store.js';
export {
  createSecretCipher,
  generateSecretKey,
  parseSecretKey,
  type SecretCipher,
  type SecretCipherOptions,
  type SealedSecret,
} from './secrets.js';
export { parseDatabaseUrl, DATABASE_URL_FORMS, type DatabaseTarget } from './url.js';
export { appTableName, quoteIdentifier, type DialectName, type TableNaming } from './naming.js';
export { databaseValue } from './dialect.js';
