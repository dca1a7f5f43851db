export { startSandbox } from './server.js';
export type {
  AddResponsesInput,
  Fault,
  IssueTokenOptions,
  RateLimit,
  Sandbox,
  SandboxAnswer,
  SandboxFormResponse,
  SandboxOptions,
  SandboxStats,
} from './types.js';
