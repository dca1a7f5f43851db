export {
  createApiServer,
  SESSION_COOKIE,
  CSRF_HEADER,
  type ApiServer,
  type ApiServerOptions,
} from './server.js';
export type { AuthService } from './auth-service.js';
export { createMetrics, type ApiMetrics } from './metrics.js';
export { errorBodyOf, statusOf, type ErrorBody } from './http-errors.js';
export type { ApiRoute, Access } from './route.js';
export { feedRunnerMetrics, startMetricsServer, type RunnerFeed } from './runner-feed.js';
