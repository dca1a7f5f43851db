export {
  TributaryError,
  ConfigError,
  SourceApiError,
  StorageError,
  InternalError,
  isTributaryError,
  toTributaryError,
  type ErrorActor,
  type TributaryErrorOptions,
  type SourceApiErrorOptions,
} from './errors.js';
export { silentLogger, SECRET_LOG_PATHS, type Logger } from './logger.js';
export { IDENTIFIER_PATTERN, isSafeIdentifier, identifierSchema } from './identifiers.js';
export {
  COLUMN_TYPES,
  columnSpecSchema,
  dataModelSchema,
  tableSpecSchema,
  rowSourceSchema,
  findTable,
  type ColumnType,
  type ColumnSpec,
  type TableSpec,
  type RowSource,
  type DataModel,
  type DataModelInput,
} from './data-model.js';
export {
  TRANSFORMS,
  SOURCE_PATH_PATTERN,
  mappingSchema,
  validateMappings,
  applyTransform,
  compileMappings,
  applyMappings,
  type Transform,
  type Mapping,
  type MappingInput,
  type SourceFields,
  type CellValue,
  type Row,
  type MappedRows,
  type MappingMeta,
  type CompiledMappings,
} from './mapping.js';
export {
  defineConnector,
  defineStream,
  maskSecrets,
  type ConnectorSpec,
  type ConnectorDefinition,
  type StreamDefinition,
  type StreamPage,
  type ReadContext,
  type RejectedRecord,
  type ConnectionCheck,
  type CheckContext,
  type RecordSummary,
  type Preflight,
} from './connector.js';
export type {
  Store,
  Installation,
  NewInstallation,
  CustomerTableLink,
  PageWrite,
  PageWriteResult,
  SavedFeedback,
  RunOutcome,
  RunRecord,
} from './store.js';
export {
  profileDefinitionSchema,
  profileConditionSchema,
  scoreConditionSchema,
  type ProfileDefinition,
  type ProfileDefinitionInput,
  type ProfileCondition,
} from './profile.js';
export { parseTimestamp, addMonthsUtc, isValidTimeZone, timeZoneSchema } from './time.js';
export { describeIssues, parseUserInput } from './validation.js';
