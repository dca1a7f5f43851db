import {
  SourceApiError,
  defineConnector,
  type CheckContext,
  type ConnectionCheck,
  type ConnectorDefinition,
  type InstallFlag,
} from '@tributary/sdk';
import { TypeformClient, type TypeformClientTuning } from './client.js';
import { baseUrlOf, typeformConfigSchema, typeformSourceIdentity, type TypeformConfig } from './config.js';
import { typeformDataModel } from './data-model.js';
import { typeformDefaultMappings, typeformSourceFields } from './mappings.js';
import { createFormsStream } from './forms-stream.js';
import { createResponsesStream, listFormIds } from './stream.js';

/** Version of the connector, stored with each installation's data model. */
export const TYPEFORM_CONNECTOR_VERSION = '0.1.0';

/** What the app costs, as the store listing shows it before install. */
export const TYPEFORM_PRICING = {
  monthly: { amount: 25, currency: 'EUR' },
  yearly: { amount: 250, currency: 'EUR' },
} as const;

/** All the time an install check may take: the operator waits at the prompt, and nothing is saved yet. */
export const CHECK_BUDGET_MS = 15_000;
const CHECK_REQUEST_TIMEOUT_MS = 10_000;
const CHECK_GIVE_UP = "nothing was installed: check --api-url (or --region) and this machine's network, then run the command again.";

/** The short flags of `tributary install typeform`; every setting can also be given with `--set`. */
export const TYPEFORM_INSTALL_FLAGS: readonly InstallFlag[] = [
  {
    field: 'token',
    flags: '--token <token>',
    fileFlags: '--token-file <path>',
    envName: 'TRIBUTARY_APP_TOKEN',
    label: 'the personal access token',
    description: 'Typeform personal access token (scopes forms:read, responses:read), or - to read it from standard input (else TRIBUTARY_APP_TOKEN)',
  },
  { field: 'region', flags: '--region <region>', description: 'data center of the Typeform account: us (default) or eu' },
  { field: 'baseUrl', flags: '--api-url <url>', description: 'Typeform API base URL (default from --region: https://api.typeform.com or https://api.eu.typeform.com)' },
  { field: 'allowInsecureHttp', flags: '--allow-insecure-http', kind: 'boolean', description: 'accept an http:// --api-url on another host than this machine (the token then travels in clear)' },
  { field: 'forms', flags: '--forms <ids>', description: 'only sync these form ids, comma-separated (default every form the token reads)' },
  { field: 'emailFrom', flags: '--email-from <source>', description: "where a response's e-mail comes from: hidden (a hidden field, default) or question (the form's e-mail question)" },
  { field: 'emailHiddenField', flags: '--email-field <name>', description: 'the hidden field holding the e-mail (default email)' },
  { field: 'backfillDays', flags: '--backfill-days <n>', kind: 'number', description: 'days of history the first sync loads (default 90)' },
  { field: 'pageSize', flags: '--page-size <n>', kind: 'number', description: 'responses per API request, 1-1000 (default 1000)' },
  { field: 'lookbackMinutes', flags: '--lookback <duration>', kind: 'minutes', description: 'how far back each hourly run reads again for late responses: minutes, or e.g. 2h (default 60)' },
  { field: 'reconcileDays', flags: '--reconcile-days <n>', kind: 'number', description: 'days the daily reconciliation pass reads again, 1-90 (default 7)' },
];

/** Options of the connector beyond each installation's config. */
export interface TypeformConnectorOptions {
  /** How the HTTP client waits, retries and paces itself, for the check and every sync. */
  client?: TypeformClientTuning;
}

/**
 * Verifies an installation before it is saved: the token must read the forms (forms:read), each
 * listed form must exist, and one small responses request proves responses:read.
 */
async function checkConnection(ctx: CheckContext<TypeformConfig>, tuning: TypeformClientTuning | undefined): Promise<ConnectionCheck> {
  const { config } = ctx;
  const baseUrl = baseUrlOf(config);
  const budgetMs = Math.min(tuning?.maxTotalWaitMs ?? CHECK_BUDGET_MS, CHECK_BUDGET_MS);
  const client = new TypeformClient({
    ...tuning,
    requestTimeoutMs: Math.min(tuning?.requestTimeoutMs ?? CHECK_REQUEST_TIMEOUT_MS, CHECK_REQUEST_TIMEOUT_MS),
    maxTotalWaitMs: budgetMs,
    baseUrl,
    token: config.token,
    logger: ctx.logger,
    afterGivingUp: CHECK_GIVE_UP,
  });
  const deadline = AbortSignal.timeout(budgetMs);
  const signal = ctx.signal ? AbortSignal.any([ctx.signal, deadline]) : deadline;
  try {
    const formIds = config.forms ?? (await listFormIds(client, signal));
    const titles: string[] = [];
    for (const formId of config.forms ?? []) titles.push((await client.getForm(formId, signal)).title ?? formId);
    const notes = [
      config.forms
        ? `Connected to Typeform at ${baseUrl}: ${formIds.length} form(s) to sync (${titles.join(', ')}).`
        : `Connected to Typeform at ${baseUrl}: the token reads ${formIds.length} form(s); every one is synced.`,
      'Typeform tokens do not expire; replace a revoked one with `tributary app token`.',
    ];
    const first = formIds[0];
    if (first !== undefined) {
      const until = new Date(Math.floor(ctx.now.getTime() / 1000) * 1000);
      const page = await client.getResponses({ formId: first, since: new Date(until.getTime() - 24 * 3_600_000), until, pageSize: 1, signal });
      notes.push(`Form ${first} has ${page.total_items} completed response(s) in the last 24 hours.`);
    }
    return { notes };
  } catch (error) {
    if (deadline.aborted && !ctx.signal?.aborted) {
      throw new SourceApiError('SOURCE_TIMEOUT', `Typeform at ${baseUrl} did not answer within ${Math.round(budgetMs / 1000)} s; ${CHECK_GIVE_UP}`, { retryable: true });
    }
    throw error;
  } finally {
    await client.close();
  }
}

/** Builds the Typeform connector; `options.client` tunes retries, waits and pace (tests use tiny values). */
export function createTypeformConnector(options: TypeformConnectorOptions = {}): ConnectorDefinition<typeof typeformConfigSchema> {
  return defineConnector({
    id: 'typeform',
    version: TYPEFORM_CONNECTOR_VERSION,
    displayName: 'Typeform',
    description: 'Form responses from Typeform: answers, scores and the respondents, synced every hour.',
    configSchema: typeformConfigSchema,
    secrets: ['token'],
    dataModel: typeformDataModel,
    sourceFields: typeformSourceFields,
    defaultMappings: typeformDefaultMappings,
    // Forms first: a run stores every form of the selection and its fields, those without responses too.
    streams: [createFormsStream({ client: options.client }), createResponsesStream({ client: options.client })],
    check: (ctx) => checkConnection(ctx, options.client),
    // The API and the form selection: kept rows and checkpoints are that source's.
    sourceIdentity: typeformSourceIdentity,
    credentialsExpireAt: () => null,
    pricing: TYPEFORM_PRICING,
    installFlags: TYPEFORM_INSTALL_FLAGS,
  });
}

/** The Typeform connector with production settings (2 requests per second). */
export const typeformConnector = createTypeformConnector();
