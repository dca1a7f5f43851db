export { createStore, type StoreOptions, type TypeOrmStore } from './store.js';
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
