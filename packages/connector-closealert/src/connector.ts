import {
  SourceApiError,
  defineConnector,
  type CheckContext,
  type ConnectionCheck,
  type ConnectorDefinition,
  type InstallFlag,
} from '@tributary/sdk';
import { CloseAlertClient, type CloseAlertClientTuning } from './client.js';
import { closeAlertConfigSchema, type CloseAlertConfig } from './config.js';
import { closeAlertDataModel } from './data-model.js';
import { closeAlertDefaultMappings, closeAlertSourceFields } from './mappings.js';
import { createFormResponsesStream } from './stream.js';
import { assertTokenUsable, describeTokenExpiry, readTokenExpiry } from './token.js';

/** Version of the connector, stored with each installation's data model. */
export const CLOSEALERT_CONNECTOR_VERSION = '0.1.0';

/** What the app costs, as the store listing shows it before install. */
export const CLOSEALERT_PRICING = {
  monthly: { amount: 25, currency: 'EUR' },
  yearly: { amount: 250, currency: 'EUR' },
} as const;

const CHECK_WINDOW_MS = 24 * 60 * 60 * 1000;
/**
 * All the time an install check may take. A sync may retry for minutes because its next run resumes;
 * an operator waiting at the prompt for a check that saves nothing may not: an API that accepts the
 * connection and never answers took five 30 s attempts plus backoff (162 s).
 */
export const CHECK_BUDGET_MS = 15_000;
const CHECK_REQUEST_TIMEOUT_MS = 10_000;
const CHECK_GIVE_UP = 'nothing was installed: check --api-url and this machine\'s network, then run the command again.';

/** The short flags of `tributary install closealert`; every setting can also be given with `--set`. */
export const CLOSEALERT_INSTALL_FLAGS: readonly InstallFlag[] = [
  { field: 'projectKey', flags: '--project <key>', description: 'CloseAlert project key, as in your CloseAlert URL (e.g. company.com)' },
  {
    field: 'apiToken',
    flags: '--token <jwt>',
    fileFlags: '--token-file <path>',
    envName: 'TRIBUTARY_APP_TOKEN',
    label: 'the API token',
    description: 'CloseAlert API token (Settings → API access), or - to read it from standard input (else TRIBUTARY_APP_TOKEN)',
  },
  { field: 'baseUrl', flags: '--api-url <url>', description: 'CloseAlert API base URL (default https://api.closealert.com/v1)' },
  { field: 'allowInsecureHttp', flags: '--allow-insecure-http', kind: 'boolean', description: 'accept an http:// --api-url on another host than this machine (the token then travels in clear)' },
  { field: 'backfillDays', flags: '--backfill-days <n>', kind: 'number', description: 'days of history the first sync loads (default 90)' },
  { field: 'timeZone', flags: '--timezone <tz>', description: 'time zone of CloseAlert timestamps without offset (default UTC)' },
  { field: 'formId', flags: '--form <id>', kind: 'number', description: 'only sync responses of this form id' },
  { field: 'pageSize', flags: '--page-size <n>', kind: 'number', description: 'responses per API request, 1-250 (default 250)' },
  { field: 'lookbackMinutes', flags: '--lookback <duration>', kind: 'minutes', description: 'how far back each hourly run reads again for late responses: minutes, or e.g. 2h, 1h30m (default 60)' },
  { field: 'reconcileDays', flags: '--reconcile-days <n>', kind: 'number', description: 'days the daily reconciliation pass reads again for responses later than the look-back, 1-90 (default 7)' },
];

/** Options of the connector beyond each installation's config. */
export interface CloseAlertConnectorOptions {
  /** How the HTTP client waits and retries, for the check and every sync. */
  client?: CloseAlertClientTuning;
}

/**
 * Verifies an installation before it is saved: the token's expiry is read locally (an expired token
 * fails without a request), then one small request proves the token, the allow-listed IP, the base
 * URL and the project key together.
 */
async function checkConnection(
  ctx: CheckContext<CloseAlertConfig>,
  tuning: CloseAlertClientTuning | undefined,
): Promise<ConnectionCheck> {
  const { config } = ctx;
  const expiry = assertTokenUsable(config.apiToken, ctx.now);
  const budgetMs = Math.min(tuning?.maxTotalWaitMs ?? CHECK_BUDGET_MS, CHECK_BUDGET_MS);
  const client = new CloseAlertClient({
    ...tuning,
    requestTimeoutMs: Math.min(tuning?.requestTimeoutMs ?? CHECK_REQUEST_TIMEOUT_MS, CHECK_REQUEST_TIMEOUT_MS),
    maxTotalWaitMs: budgetMs,
    baseUrl: config.baseUrl,
    projectKey: config.projectKey,
    apiToken: config.apiToken,
    logger: ctx.logger,
    afterGivingUp: CHECK_GIVE_UP,
  });
  const deadline = AbortSignal.timeout(budgetMs);
  const signal = ctx.signal ? AbortSignal.any([ctx.signal, deadline]) : deadline;
  try {
    const until = new Date(Math.floor(ctx.now.getTime() / 1000) * 1000);
    const page = await client.getFormResponses({
      since: new Date(until.getTime() - CHECK_WINDOW_MS),
      until,
      page: 0,
      perPage: 1,
      formId: config.formId,
      signal,
    });
    const scope = config.formId === undefined ? '' : ` on form ${config.formId}`;
    const notes = [
      `Connected to CloseAlert project ${config.projectKey}: ${page.meta.total_results} responses${scope} in the last 24 hours.`,
      describeTokenExpiry(expiry),
    ];
    if (page.meta.requests_left !== undefined)
      notes.push(`CloseAlert reports ${page.meta.requests_left} requests left in its rate limit.`);
    return { notes };
  } catch (error) {
    if (deadline.aborted && !ctx.signal?.aborted) {
      throw new SourceApiError(
        'SOURCE_TIMEOUT',
        `CloseAlert at ${config.baseUrl} did not answer within ${Math.round(budgetMs / 1000)} s; ${CHECK_GIVE_UP}`,
        { retryable: true },
      );
    }
    throw error;
  } finally {
    await client.close();
  }
}

/** Builds the CloseAlert connector; `options.client` tunes retries and waits (tests use tiny values). */
export function createCloseAlertConnector(
  options: CloseAlertConnectorOptions = {},
): ConnectorDefinition<typeof closeAlertConfigSchema> {
  return defineConnector({
    id: 'closealert',
    version: CLOSEALERT_CONNECTOR_VERSION,
    displayName: 'CloseAlert',
    description: "Survey responses from CloseAlert's Reporting API: scores, comments and the customers who gave them, synced every hour.",
    configSchema: closeAlertConfigSchema,
    secrets: ['apiToken'],
    dataModel: closeAlertDataModel,
    sourceFields: closeAlertSourceFields,
    defaultMappings: closeAlertDefaultMappings,
    streams: [createFormResponsesStream({ client: options.client })],
    check: (ctx) => checkConnection(ctx, options.client),
    preflight: (config, now) => {
      const expiry = assertTokenUsable(config.apiToken, now);
      return { warnings: expiry.warning === null ? [] : [describeTokenExpiry(expiry)] };
    },
    timeZoneOf: (config) => config.timeZone,
    // The same project (and form filter) at the same API: kept rows and the checkpoint are that
    // source's; other settings (time zone, look-back, backfill days) may change on a reinstall.
    sourceIdentity: (config) => ({ baseUrl: config.baseUrl, projectKey: config.projectKey, formId: config.formId ?? null }),
    credentialsExpireAt: (config) => readTokenExpiry(config.apiToken, new Date()).expiresAt,
    pricing: CLOSEALERT_PRICING,
    installFlags: CLOSEALERT_INSTALL_FLAGS,
  });
}

/** The CloseAlert connector with production settings. */
export const closeAlertConnector = createCloseAlertConnector();
