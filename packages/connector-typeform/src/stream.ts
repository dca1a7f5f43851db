import {
  DAY_MS,
  Incremental,
  MINUTE_MS,
  SourceApiError,
  defineStream,
  incrementalStateSchema,
  paginate,
  z,
  type ReadContext,
  type RecordSummary,
  type StreamDefinition,
  type StreamPage,
} from '@tributary/sdk';
import { TypeformClient, type ResponsesPage, type TypeformClientTuning } from './client.js';
import { baseUrlOf, type TypeformConfig } from './config.js';
import {
  fieldTitles,
  rawResponseId,
  responseSchemaFor,
  typeformResponseSchema,
  type TypeformResponse,
} from './record.js';

/** Typeform has no window limit; a year per window keeps a backfill to one token walk per form at 2 requests/s. */
export const WINDOW_MS = 365 * DAY_MS;
/** Forms per request of `GET /forms` (Typeform's maximum is 200). */
const FORMS_PAGE_SIZE = 200;

/** Where the responses stream stands: one incremental cursor per form, so a new form backfills alone. */
export const responsesCheckpointSchema = z.object({ forms: z.record(z.string(), incrementalStateSchema) });
/** Checkpoint of the responses stream. */
export type ResponsesCheckpoint = z.infer<typeof responsesCheckpointSchema>;

/** Options of the stream beyond the installation's config: how its HTTP client waits and retries. */
export interface ResponsesStreamOptions {
  client?: TypeformClientTuning;
}

interface PageJob {
  windowIndex: number;
  after?: string | undefined;
}

/** Every form id the token can read, page by page. */
export async function listFormIds(client: TypeformClient, signal: AbortSignal | undefined): Promise<string[]> {
  const ids: string[] = [];
  for await (const { page } of paginate<number, Awaited<ReturnType<TypeformClient['listForms']>>>({
    first: 1,
    fetch: (number) => client.listForms(number, FORMS_PAGE_SIZE, signal),
    next: (page, number) => (number < page.page_count && page.items.length > 0 ? number + 1 : undefined),
    prefetch: false,
  })) {
    for (const item of page.items) ids.push(item.id);
  }
  return [...new Set(ids)];
}

function isNotFound(error: unknown): boolean {
  return error instanceof SourceApiError && error.code === 'SOURCE_NOT_FOUND';
}

/** The token of the last response of a page that has one: where the next page starts. */
function lastToken(items: readonly unknown[]): string | undefined {
  for (let index = items.length - 1; index >= 0; index--) {
    const token = (items[index] as { token?: unknown } | null)?.token;
    if (typeof token === 'string' && token !== '') return token;
  }
  return undefined;
}

async function* readResponses(
  ctx: ReadContext<TypeformConfig, ResponsesCheckpoint>,
  options: ResponsesStreamOptions,
): AsyncGenerator<StreamPage<TypeformResponse, ResponsesCheckpoint>> {
  const { config, logger } = ctx;
  const controller = new AbortController();
  const signal = ctx.signal ? AbortSignal.any([ctx.signal, controller.signal]) : controller.signal;
  const client = new TypeformClient({ ...options.client, baseUrl: baseUrlOf(config), token: config.token, logger, onWait: ctx.onWait });
  const states: ResponsesCheckpoint['forms'] = { ...ctx.checkpoint?.forms };
  try {
    const formIds = config.forms ?? (await listFormIds(client, signal));
    for (const [formIndex, formId] of formIds.entries()) {
      let definition;
      try {
        definition = await client.getForm(formId, signal);
      } catch (error) {
        // A form deleted since it was listed (or since the installation named it) has nothing left to
        // read; the others still sync, and its stored responses stay.
        if (!isNotFound(error)) throw error;
        logger.warn({ formId }, 'typeform form not found, skipped: it was deleted or the token cannot see it');
        continue;
      }
      const schema = responseSchemaFor({
        formId,
        formTitle: definition.title ?? null,
        fieldTitles: fieldTitles(definition),
        emailFrom: config.emailFrom,
        emailHiddenField: config.emailHiddenField,
      });
      const incremental = new Incremental<TypeformResponse>({
        checkpoint: states[formId] ?? null,
        now: ctx.now,
        installedAt: ctx.installedAt,
        reconcile: ctx.reconcile,
        schema,
        keyOf: (record) => record.response_id,
        rawIdOf: rawResponseId,
        cursorField: 'submitted_at',
        cursorOf: (record) => Date.parse(record.submitted_at),
        backfillMs: config.backfillDays * DAY_MS,
        lookbackMs: config.lookbackMinutes * MINUTE_MS,
        maxWindowMs: WINDOW_MS,
        reconcileMs: config.reconcileDays * DAY_MS,
      });
      const { windows } = incremental;
      if (incremental.reconciliation) logger.info({ formId, ...incremental.reconciliation }, 'reconciliation pass: reading an older range again for late responses');

      const isLastPage = (page: ResponsesPage): boolean =>
        page.items.length === 0 || page.items.length < config.pageSize || page.page_count <= 1;
      const pages = paginate<PageJob, ResponsesPage>({
        first: { windowIndex: 0 },
        fetch: (job) => {
          const window = windows[job.windowIndex]!;
          return client.getResponses({ formId, since: new Date(window.sinceMs), until: new Date(window.untilMs), pageSize: config.pageSize, after: job.after, signal });
        },
        next: (page, job) => {
          if (!isLastPage(page)) {
            const after = lastToken(page.items);
            if (after === undefined) {
              throw new SourceApiError('SOURCE_BAD_RESPONSE', `Typeform answered a full page of form ${formId} without any response token to continue after; the run stops here and the next one reads this window again.`, { retryable: true });
            }
            return { windowIndex: job.windowIndex, after };
          }
          return job.windowIndex + 1 < windows.length ? { windowIndex: job.windowIndex + 1 } : undefined;
        },
      });
      try {
        for await (const { request: job, page } of pages) {
          const lastOfWindow = isLastPage(page);
          const settled = incremental.settle({
            windowIndex: job.windowIndex,
            records: page.items,
            lastOfWindow,
            lastOfRun: lastOfWindow && job.windowIndex + 1 >= windows.length,
          });
          signal.throwIfAborted();
          for (const part of settled) {
            yield {
              ...part,
              checkpoint: { forms: { ...states, [formId]: part.checkpoint } },
              progress: { done: formIndex + (part.progress?.done ?? 0) / Math.max(1, part.progress?.total ?? 1), total: formIds.length },
            };
          }
          states[formId] = settled[settled.length - 1]!.checkpoint;
        }
      } catch (error) {
        if (!isNotFound(error)) throw error;
        logger.warn({ formId }, 'typeform form disappeared while its responses were read, skipped');
      }
    }
  } finally {
    controller.abort();
    await client.close();
  }
}

/** A response as one line of the run log: the customer, the form, the first score and the first comment. */
export function summarizeResponse(response: TypeformResponse): RecordSummary {
  const summary: RecordSummary = { key: response.response_id };
  const email = response.email?.trim().toLowerCase();
  if (email) summary.contact = email;
  if (response.form.title) summary.label = response.form.title;
  const score = response.answers.find((answer) => answer.score !== null)?.score ?? undefined;
  const comment = response.answers.find((answer) => answer.comment !== null)?.comment?.trim();
  const fields = { ...(score === undefined ? {} : { score }), ...(comment ? { comment } : {}) };
  if (Object.keys(fields).length > 0) summary.fields = fields;
  return summary;
}

/** Builds the responses stream; `options.client` tunes retries, waits and the pace (tests use tiny values). */
export function createResponsesStream(options: ResponsesStreamOptions = {}): StreamDefinition<TypeformConfig, TypeformResponse, ResponsesCheckpoint> {
  return defineStream<TypeformConfig, TypeformResponse, ResponsesCheckpoint>({
    name: 'responses',
    recordSchema: typeformResponseSchema,
    checkpointSchema: responsesCheckpointSchema,
    read: (ctx) => readResponses(ctx, options),
    summarize: summarizeResponse,
  });
}
