import { SourceApiError, defineStream, z, type ReadContext, type StreamDefinition, type StreamPage } from '@tributary/sdk';
import { TypeformClient } from './client.js';
import { baseUrlOf, type TypeformConfig } from './config.js';
import { formRecordOf, typeformFormRecordSchema, type TypeformFormRecord } from './record.js';
import { listFormIds, type ResponsesStreamOptions } from './stream.js';

/** Forms per committed page: a kill loses at most this many form requests (half a second each). */
const FORMS_PER_PAGE = 20;

/**
 * Where the forms stream stands: every form it has stored, with its title (a deleted form keeps the
 * last one, since Typeform no longer tells it) and when it was found gone.
 */
export const formsCheckpointSchema = z.object({
  forms: z.record(z.string(), z.object({ title: z.string().nullable(), deletedAt: z.string().nullable() })),
});
/** Checkpoint of the forms stream. */
export type FormsCheckpoint = z.infer<typeof formsCheckpointSchema>;

function isNotFound(error: unknown): boolean {
  return error instanceof SourceApiError && error.code === 'SOURCE_NOT_FOUND';
}

/**
 * Reads the forms of the installation's selection (`GET /forms`, every page, or the listed ids) and
 * each one's fields (`GET /forms/{form_id}`). A form stops existing in two ways: the list no longer
 * names it, or its definition answers 404. Its rows stay; the form row gets `deleted_at`, once.
 */
async function* readForms(
  ctx: ReadContext<TypeformConfig, FormsCheckpoint>,
  options: ResponsesStreamOptions,
): AsyncGenerator<StreamPage<TypeformFormRecord, FormsCheckpoint>> {
  const { config, logger } = ctx;
  const controller = new AbortController();
  const signal = ctx.signal ? AbortSignal.any([ctx.signal, controller.signal]) : controller.signal;
  const client = new TypeformClient({ ...options.client, baseUrl: baseUrlOf(config), token: config.token, logger, onWait: ctx.onWait });
  const known: FormsCheckpoint['forms'] = { ...ctx.checkpoint?.forms };
  const deletedAt = ctx.now.toISOString();
  const backfill = ctx.checkpoint === null;
  let records: TypeformFormRecord[] = [];
  const gone = (formId: string): void => {
    const last = known[formId];
    // A form never stored has no row to mark; one already marked keeps the moment it was first missed.
    if (last === undefined || last.deletedAt !== null) return;
    known[formId] = { title: last.title, deletedAt };
    records.push({ form_id: formId, title: last.title, deleted_at: deletedAt, fields: [] });
  };
  const page = (done: number, total: number): StreamPage<TypeformFormRecord, FormsCheckpoint> => {
    const out = { records, rejected: [], checkpoint: { forms: { ...known } }, backfill, progress: { done, total } };
    records = [];
    return out;
  };
  try {
    const formIds = config.forms ?? (await listFormIds(client, signal));
    for (const [index, formId] of formIds.entries()) {
      try {
        const record = formRecordOf(await client.getForm(formId, signal), formId);
        known[formId] = { title: record.title, deletedAt: null };
        records.push(record);
      } catch (error) {
        if (!isNotFound(error)) throw error;
        logger.warn({ formId }, 'typeform form not found: it was deleted or the token cannot see it; its stored rows stay');
        gone(formId);
      }
      signal.throwIfAborted();
      if (records.length >= FORMS_PER_PAGE) yield page(index + 1, formIds.length);
    }
    // With every form selected, a form the list no longer names was deleted (or moved out of reach).
    if (config.forms === undefined) {
      const listed = new Set(formIds);
      for (const formId of Object.keys(known)) if (!listed.has(formId)) gone(formId);
    }
    yield page(formIds.length, formIds.length);
  } finally {
    controller.abort();
    await client.close();
  }
}

/** Builds the forms stream; `options.client` tunes retries, waits and the pace (tests use tiny values). */
export function createFormsStream(options: ResponsesStreamOptions = {}): StreamDefinition<TypeformConfig, TypeformFormRecord, FormsCheckpoint> {
  return defineStream<TypeformConfig, TypeformFormRecord, FormsCheckpoint>({
    name: 'forms',
    recordSchema: typeformFormRecordSchema,
    checkpointSchema: formsCheckpointSchema,
    read: (ctx) => readForms(ctx, options),
  });
}
