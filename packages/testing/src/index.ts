export { createPostgresTestDatabase, type PostgresTestDatabase } from './postgres.js';
export { testDatabases, tempDirectory, type TestDatabase } from './databases.js';
