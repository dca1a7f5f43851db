export { startSandbox, BAD_RECORD_TEXT } from './server.js';
export { parseInstant, parseResponsesQuery, MAX_PAGE_SIZE } from './query.js';
export type {
  AddResponsesOptions,
  Fault,
  RateLimit,
  Sandbox,
  SandboxAnswer,
  SandboxField,
  SandboxForm,
  SandboxOptions,
  SandboxResponse,
  SandboxStats,
  Scope,
} from './types.js';
