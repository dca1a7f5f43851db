export { createRandom, type Random } from './prng.js';
export { TokenBucket } from './token-bucket.js';
export { FaultQueue } from './fault-queue.js';
export { faultSchema, faultTimesSchema, rateLimitSchema, type Fault, type RateLimit, type StatusFault } from './faults.js';
export {
  SandboxHttp,
  jsonReply,
  proxyReply,
  shapeBody,
  withRetryAfter,
  type FaultOutcome,
  type Reply,
  type SandboxStats,
} from './http.js';
