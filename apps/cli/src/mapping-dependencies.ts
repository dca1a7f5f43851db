// Moved to @tributary/core so that the HTTP API refuses the same edits; kept here for the CLI's imports.
export {
  mappingDependencies,
  brokenDependencies,
  profilesReading,
  dependencyRefusal,
  forcedNotice,
  type MappingDependency,
} from '@tributary/core';
