export { createPostgresTestDatabase, type PostgresTestDatabase } from './postgres.js';
export { testDatabases, tempDirectory, type TestDatabase } from './databases.js';
export {
  describeConnectorConformance,
  tributaryCliEntry,
  type ConformanceConnector,
  type ConformanceOptions,
  type ConformanceSandbox,
} from './conformance.js';
