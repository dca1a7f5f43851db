import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ConnectorDefinition } from '@tributary/sdk';
import { installConnector, runSync } from '@tributary/runner';
import { createSecretCipher, createStore, type TypeOrmStore } from '@tributary/store-typeorm';
import { testDatabases } from '@tributary/testing';
import { startSandbox, type Sandbox } from '@tributary/typeform-sandbox';
import { createTypeformConnector, type TypeformConfigInput } from './index.js';

// The forms stream and the source identity through the runner and the store, on both databases,
// against the Typeform sandbox over real HTTP: forms and fields get rows whether or not anyone
// answered, a renamed field keeps its id, a deleted form keeps its rows, and a reinstall takes back
// the kept data only when it reads the same API and forms.

const databases = await testDatabases('typeform_forms');
const FAST = { requestsPerSecond: 1000, backoffBaseMs: 1, backoffMaxMs: 5, rateLimitWaitMs: 5, maxAttempts: 4 };
const connector = createTypeformConnector({ client: FAST }) as unknown as ConnectorDefinition;

describe.each(databases)('typeform forms and source identity on $dialect', (db) => {
  let store: TypeOrmStore;
  let sandbox: Sandbox;
  let clock = Date.now();
  const now = () => new Date(clock);
  const param = (n: number) => (db.dialect === 'postgres' ? `$${n}` : '?');
  const instant = (value: unknown) => (value === null ? null : new Date(value as string | Date).toISOString());

  beforeAll(async () => {
    sandbox = await startSandbox({ responses: 40, forms: 2, spanDays: 10, seed: 12, rateLimit: { capacity: 100_000, refillPerSecond: 100_000 } });
    store = await createStore({ url: db.url, cipher: createSecretCipher({ keys: { k1: randomBytes(32) }, currentKeyId: 'k1' }) });
    await store.migrate();
  });
  afterAll(async () => {
    await store?.close();
    await sandbox?.close();
  });

  const install = (workspace: string, settings: Partial<TypeformConfigInput>) =>
    installConnector({
      store,
      connector,
      workspace,
      config: connector.configSchema.parse({ token: sandbox.token, baseUrl: sandbox.url, backfillDays: 30, ...settings }) as Record<string, unknown>,
      billing: { plan: 'monthly' },
      now,
    });
  const forms = async (installationId: string) =>
    (
      await store.query<{ form_id: string; title: string | null; deleted_at: unknown }>(
        `SELECT form_id, title, deleted_at FROM ${store.appTable('typeform', 'forms')} WHERE installation_id = ${param(1)} ORDER BY form_id`,
        [installationId],
      )
    ).map((row) => ({ ...row, deleted_at: instant(row.deleted_at) }));
  const fields = (installationId: string, formId: string) =>
    store.query<{ field_id: string; ref: string | null; title: string | null; field_type: string }>(
      `SELECT field_id, ref, title, field_type FROM ${store.appTable('typeform', 'fields')} WHERE installation_id = ${param(1)} AND form_id = ${param(2)} ORDER BY field_id`,
      [installationId, formId],
    );
  const responsesOf = async (installationId: string, formId: string) =>
    Number(
      (
        await store.query<{ n: number | string }>(
          `SELECT COUNT(*) AS n FROM ${store.appTable('typeform', 'responses')} WHERE installation_id = ${param(1)} AND form_id = ${param(2)}`,
          [installationId, formId],
        )
      )[0]!.n,
    );
  const served = (formId: string) =>
    sandbox
      .forms()
      .find((f) => f.id === formId)!
      .fields.map((f) => ({ field_id: f.id, ref: f.ref, title: f.title, field_type: f.type }))
      .sort((a, b) => (a.field_id < b.field_id ? -1 : 1));

  it('stores a form nobody answered with its fields, renames a field in place, and marks a deleted form while keeping its rows', async () => {
    const quiet = sandbox.addForm('Nobody answered yet');
    const [answered] = sandbox.forms();
    const { installation } = await install('forms', {});
    const first = await runSync({ store, connector, installation, now });
    expect(first.status, first.error).toBe('succeeded');
    // Forms are read, not counted as responses, nor as responses read twice.
    expect(first.fetched).toBe(sandbox.responseCount());
    expect(first.duplicates ?? 0).toBe(0);
    expect(await forms(installation.id)).toEqual(
      sandbox
        .forms()
        .map((f) => ({ form_id: f.id, title: f.title, deleted_at: null }))
        .sort((a, b) => (a.form_id < b.form_id ? -1 : 1)),
    );
    expect(await responsesOf(installation.id, quiet.id)).toBe(0);
    expect(await fields(installation.id, quiet.id)).toEqual(served(quiet.id));

    const renamed = quiet.fields.find((f) => f.type === 'nps')!;
    sandbox.renameField(quiet.id, renamed.id, 'Would you recommend us to a colleague?');
    const kept = await responsesOf(installation.id, answered!.id);
    expect(kept).toBeGreaterThan(0);
    sandbox.deleteForm(answered!.id);
    clock += 3_600_000;
    const second = await runSync({ store, connector, installation, now });
    expect(second.status, second.error).toBe('succeeded');
    const after = await fields(installation.id, quiet.id);
    expect(after).toEqual(served(quiet.id));
    expect(after.find((f) => f.field_id === renamed.id)!.title).toBe('Would you recommend us to a colleague?');
    const deletedAt = new Date(clock).toISOString();
    expect((await forms(installation.id)).find((f) => f.form_id === answered!.id)).toEqual({ form_id: answered!.id, title: answered!.title, deleted_at: deletedAt });
    expect(await responsesOf(installation.id, answered!.id)).toBe(kept);
    expect(await fields(installation.id, answered!.id)).toHaveLength(answered!.fields.length);

    // The mark says when the form was first found gone, however many runs see it gone since.
    clock += 3_600_000;
    expect((await runSync({ store, connector, installation, now })).status).toBe('succeeded');
    expect((await forms(installation.id)).find((f) => f.form_id === answered!.id)!.deleted_at).toBe(deletedAt);
    expect((await forms(installation.id)).find((f) => f.form_id === quiet.id)!.deleted_at).toBeNull();
  });

  it('reattaches kept data to a reinstall of the same API and forms, in any order, and starts afresh for another selection', async () => {
    const workspace = 'identity';
    const [a, b] = [sandbox.addForm('First of two'), sandbox.addForm('Second of two')];
    sandbox.addResponses({ count: 3, formId: a.id });
    const { installation: first } = await install(workspace, { forms: [a.id, b.id] });
    expect((await runSync({ store, connector, installation: first, now })).status).toBe('succeeded');
    const checkpoint = await store.readCheckpoint(first.id, 'responses');
    expect(checkpoint).not.toBeNull();
    await store.uninstall(first.id, { purge: false, at: now() });

    const again = await install(workspace, { forms: `${b.id}, ${a.id}`, baseUrl: `${sandbox.url}/`, lookbackMinutes: 120 });
    expect(again.reattached?.id).toBe(first.id);
    expect(again.installation.id).toBe(first.id);
    expect(await store.readCheckpoint(first.id, 'responses')).toEqual(checkpoint);
    expect(await responsesOf(first.id, a.id)).toBe(3);
    await store.uninstall(first.id, { purge: false, at: now() });

    // One form of the two is another source: its history would be skipped under the kept checkpoint.
    const narrower = await install(workspace, { forms: [a.id] });
    expect(narrower.reattached).toBeUndefined();
    expect(narrower.installation.id).not.toBe(first.id);
    expect(narrower.apart.map((i) => i.id)).toEqual([first.id]);
    expect(await store.readCheckpoint(narrower.installation.id, 'responses')).toBeNull();
    expect((await runSync({ store, connector, installation: narrower.installation, now })).status).toBe('succeeded');
    expect(await responsesOf(narrower.installation.id, a.id)).toBe(3);
    expect(await responsesOf(first.id, a.id)).toBe(3);
    await store.uninstall(narrower.installation.id, { purge: false, at: now() });

    // Every form the token reads is yet another selection.
    const everything = await install(workspace, {});
    expect(everything.reattached).toBeUndefined();
    expect(new Set(everything.apart.map((i) => i.id))).toEqual(new Set([first.id, narrower.installation.id]));
  });
});
