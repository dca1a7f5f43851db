// The edits moved to @tributary/core so that the HTTP API applies the same ones; kept here for the CLI's imports.
export {
  DEFAULT_TRANSFORM,
  parseTarget,
  parseTransform,
  parseColumnType,
  setMapping,
  toggleMapping,
  addMapping,
  resetMappings,
  mappingState,
  type Target,
  type MappingEdit,
  type SetOptions,
} from '@tributary/core';
