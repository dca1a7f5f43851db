import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import { ConfigError, defineDestination, isTributaryError, type DeliveryBatch, type DeliveryOutcome, type DestinationLimits } from '@tributary/core';
import { checkWebhookUrl, pinnedDispatcher, shownUrl, undici } from './limits.js';
import { IDEMPOTENCY_HEADER, SIGNATURE_HEADER, signatureHeader } from './signature.js';

const configSchema = z.object({
  url: z
    .url({ protocol: /^https?$/ })
    .describe('where the batches are POSTed: https://, or http:// to a host the operator allows in TRIBUTARY_WEBHOOK_ALLOW_HOSTS'),
  secret: z.string().min(16, 'must be at least 16 characters').describe('the signing secret the receiver verifies signatures with'),
  timeoutMs: z.coerce.number().int().min(100).max(120_000).default(10_000).describe('how long one attempt may take, in milliseconds'),
});

type WebhookConfig = z.infer<typeof configSchema>;

function retryAfterMs(value: string | string[] | undefined): number | undefined {
  const text = Array.isArray(value) ? value[0] : value;
  if (!text) return undefined;
  const seconds = Number(text);
  if (Number.isFinite(seconds) && seconds >= 0) return Math.min(seconds * 1000, 3_600_000);
  const date = Date.parse(text);
  return Number.isNaN(date) ? undefined : Math.max(0, Math.min(date - Date.now(), 3_600_000));
}

/**
 * POSTs one signed JSON body and says how it went; never throws for the receiver's failures. The
 * host is resolved and checked against the operator's limits on every attempt, and the connection
 * pinned to the addresses checked.
 */
async function post(config: WebhookConfig, body: string, idempotencyKey: string, signal: AbortSignal | undefined, limits: DestinationLimits | undefined): Promise<DeliveryOutcome> {
  const seconds = Math.floor(Date.now() / 1000);
  const where = shownUrl(config.url);
  let target;
  try {
    target = await checkWebhookUrl(config.url, limits);
  } catch (error) {
    // Retried, not dead-lettered: the operator may allow the receiver before the attempts run out.
    return { status: 'retry', error: isTributaryError(error) ? error.message : `cannot check ${where}: ${(error as Error).message}` };
  }
  const dispatcher = pinnedDispatcher(target);
  const timeout = AbortSignal.timeout(config.timeoutMs);
  try {
    const response = await undici().request(config.url, {
      dispatcher,
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'user-agent': 'tributary-webhook',
        [IDEMPOTENCY_HEADER]: idempotencyKey,
        [SIGNATURE_HEADER]: signatureHeader(config.secret, seconds, body),
      },
      body,
      headersTimeout: config.timeoutMs,
      bodyTimeout: config.timeoutMs,
      signal: signal ? AbortSignal.any([signal, timeout]) : timeout,
    });
    // The body is read to free the connection; only its length matters.
    await response.body.text().catch(() => '');
    const status = response.statusCode;
    if (status >= 200 && status < 300) return { status: 'delivered' };
    if (status === 429 || status === 408 || status >= 500) {
      const wait = retryAfterMs(response.headers['retry-after']);
      return { status: 'retry', error: `${where} answered HTTP ${status}`, ...(wait === undefined ? {} : { retryAfterMs: wait }) };
    }
    return { status: 'failed', error: `${where} refused the batch with HTTP ${status}; the receiver's owner must accept it (check its URL and signing secret)` };
  } catch (error) {
    const name = (error as Error).name;
    const timedOut = timeout.aborted || /Timeout/i.test(name);
    return { status: 'retry', error: timedOut ? `${where} did not answer within ${config.timeoutMs} ms` : `cannot reach ${where}: ${(error as Error).message}` };
  } finally {
    await dispatcher.destroy().catch(() => undefined);
  }
}

/**
 * The webhook destination: POSTs each batch of entered/left changes as JSON, signed with
 * HMAC-SHA256, with the batch id as idempotency key. 429, 408, 5xx and time-outs are retried by the
 * runner with backoff; any other answer dead-letters the batch.
 */
export const webhookDestination = defineDestination({
  id: 'webhook',
  version: '1.0.0',
  displayName: 'Webhook',
  description: 'POSTs signed JSON batches of entered/left changes to a URL',
  configSchema,
  secrets: ['secret'],
  kind: 'push',
  async admit(config, { limits }) {
    await checkWebhookUrl(config.url, limits);
  },
  async deliver(batch: DeliveryBatch, context) {
    return post(context.config, JSON.stringify(batch), batch.id, context.signal, context.limits);
  },
  async test(context) {
    // A receiver the limits refuse is the operator's to allow, not a receiver's failure: said as such.
    await checkWebhookUrl(context.config.url, context.limits);
    const id = `test-${randomUUID()}`;
    const probe: DeliveryBatch & { test: true } = {
      id,
      workspace: '',
      profile: '',
      reason: 'evaluation',
      evaluatedAt: new Date().toISOString(),
      changes: [],
      test: true,
    };
    const outcome = await post(context.config, JSON.stringify(probe), id, context.signal, context.limits);
    if (outcome.status !== 'delivered') {
      throw new ConfigError('DESTINATION_TEST_FAILED', `The test batch to "${context.name}" was not accepted: ${outcome.error}.`, {
        hint: 'Check the URL and that the receiver verifies with the same secret; a receiver should answer 2xx to a batch with "test": true.',
      });
    }
    return { notes: [`${shownUrl(context.config.url)} accepted a signed test batch (no changes).`] };
  },
});
