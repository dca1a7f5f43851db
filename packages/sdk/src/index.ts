// The one import a connector author needs: core's contracts (defineConnector, defineStream, the
// types and errors) and the building blocks every HTTP connector would otherwise rewrite.
export * from '@tributary/core';
// The same zod the contracts are built on, so that a connector's schemas need no second import.
export { z } from 'zod';
export {
  HttpSourceClient,
  type HttpAuth,
  type HttpClientOptions,
  type HttpClientTuning,
  type GetOptions,
  type HttpResponse,
} from './http-client.js';
export { parseRetryAfter, redactText, statusError, type StatusFailure } from './http-errors.js';
export { RateLimiter, sharedRateLimiter } from './rate-limiter.js';
export { validateRecords } from './records.js';
export {
  paginate,
  pageNumberPaginator,
  offsetPaginator,
  cursorPaginator,
  nextLinkPaginator,
  nextFromLinkHeader,
  type Fetched,
  type PaginateOptions,
} from './paginators.js';
export {
  Incremental,
  incrementalStateSchema,
  planWindows,
  planReconciliation,
  groupByKind,
  readRawId,
  DAY_MS,
  MINUTE_MS,
  type IncrementalOptions,
  type IncrementalState,
  type RawPage,
  type ReadWindow,
  type RecordKind,
} from './incremental.js';
