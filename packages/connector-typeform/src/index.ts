export {
  typeformConnector,
  createTypeformConnector,
  TYPEFORM_CONNECTOR_VERSION,
  TYPEFORM_PRICING,
  TYPEFORM_INSTALL_FLAGS,
  type TypeformConnectorOptions,
} from './connector.js';
export {
  typeformConfigSchema,
  baseUrlOf,
  typeformSourceIdentity,
  isSafeFormId,
  US_BASE_URL,
  EU_BASE_URL,
  type TypeformConfig,
  type TypeformConfigInput,
} from './config.js';
export {
  TypeformClient,
  TYPEFORM_REQUESTS_PER_SECOND,
  REPLACE_TOKEN_COMMAND,
  formatInstant,
  type ResponsesPage,
  type ResponsesQuery,
  type TypeformClientOptions,
  type TypeformClientTuning,
} from './client.js';
export {
  rawResponseSchema,
  responseSchemaFor,
  typeformResponseSchema,
  fieldTitles,
  formFields,
  formRecordOf,
  typeformFormRecordSchema,
  SCORE_FIELD_TYPES,
  COMMENT_FIELD_TYPES,
  type TypeformResponse,
  type TypeformAnswer,
  type FormDefinition,
  type FormField,
  type FormRecordField,
  type TypeformFormRecord,
} from './record.js';
export {
  createResponsesStream,
  summarizeResponse,
  responsesCheckpointSchema,
  listFormIds,
  type ResponsesCheckpoint,
  type ResponsesStreamOptions,
} from './stream.js';
export { createFormsStream, formsCheckpointSchema, type FormsCheckpoint } from './forms-stream.js';
export { typeformDataModel } from './data-model.js';
export { typeformDefaultMappings, typeformSourceFields } from './mappings.js';
