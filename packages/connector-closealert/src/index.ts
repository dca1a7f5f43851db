export {
  closeAlertConnector,
  createCloseAlertConnector,
  CLOSEALERT_CONNECTOR_VERSION,
  CLOSEALERT_PRICING,
  type CloseAlertConnectorOptions,
} from './connector.js';
export {
  closeAlertConfigSchema,
  isSafeProjectKey,
  DEFAULT_BASE_URL,
  type CloseAlertConfig,
  type CloseAlertConfigInput,
} from './config.js';
export {
  CloseAlertClient,
  pageEnvelopeSchema,
  type CloseAlertClientOptions,
  type CloseAlertClientTuning,
  type FormResponsesPage,
  type FormResponsesQuery,
  type PageMeta,
} from './client.js';
export { formResponseSchema, answerSchema, type FormResponse, type FormAnswer } from './record.js';
export {
  formResponsesStream,
  createFormResponsesStream,
  formResponsesCheckpointSchema,
  type FormResponsesCheckpoint,
  type FormResponsesStreamOptions,
} from './stream.js';
export { readTokenExpiry, describeTokenExpiry, REPLACE_TOKEN_COMMAND, type TokenExpiry } from './token.js';
export { closeAlertDataModel } from './data-model.js';
export { closeAlertDefaultMappings, closeAlertSourceFields } from './mappings.js';
