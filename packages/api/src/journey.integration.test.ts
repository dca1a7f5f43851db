import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testDatabases } from '@tributary/testing';
import { sandboxConfig, startHarness, type Harness } from './test-support/harness.js';

// The journey over real HTTP against the CloseAlert sandbox, on both databases: install (with its
// connection check), sync now as a job, runs with their customers, mappings, a profile preview that
// records nothing, a saved profile, its export, and the metrics the sync left.

const databases = await testDatabases('api-journey');

async function waitForJob(h: Harness, key: string, id: string) {
  for (let i = 0; i < 300; i += 1) {
    const job = await h.call('GET', `/workspaces/acme/jobs/${id}`, { key });
    if (!['queued', 'running'].includes(job.json.status)) return job.json;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error('job did not finish');
}

describe.each(databases)('the HTTP journey on $dialect', (db) => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness(db);
  });
  afterAll(async () => {
    await h?.close();
  });

  it('refuses an install whose token the source rejects, saving nothing', async () => {
    const answer = await h.call('POST', '/workspaces/acme/apps/closealert', {
      key: h.keys.admin,
      body: { config: { ...sandboxConfig(h.sandbox), apiToken: 'not-a-token' } },
    });
    expect(answer.status).toBeGreaterThanOrEqual(400);
    expect(Object.keys(answer.json).sort()).toEqual(['code', 'hint', 'message']);
    const checked = await h.call('POST', '/workspaces/acme/apps/closealert/check', {
      key: h.keys.admin,
      body: { config: { ...sandboxConfig(h.sandbox), apiToken: 'not-a-token' } },
    });
    expect(checked.status).toBe(answer.status);
    expect(checked.json.code).toBe(answer.json.code);
    expect((await h.call('GET', '/workspaces/acme/apps', { key: h.keys.admin })).json.items).toEqual([]);
  });

  it('installs, syncs as a job, and shows the run with its customers', async () => {
    const checked = await h.call('POST', '/workspaces/acme/apps/closealert/check', {
      key: h.keys.admin,
      body: { config: sandboxConfig(h.sandbox) },
    });
    expect(checked.status).toBe(200);
    expect(checked.json.notes.length).toBeGreaterThan(0);
    expect((await h.call('GET', '/workspaces/acme/apps', { key: h.keys.admin })).json.items).toEqual([]);
    const installed = await h.call('POST', '/workspaces/acme/apps/closealert', {
      key: h.keys.admin,
      body: { config: sandboxConfig(h.sandbox), billing: { plan: 'yearly' } },
    });
    expect(installed.status).toBe(201);
    expect(installed.json.installation.settings.apiToken).toBeUndefined();
    expect(installed.text).not.toContain(h.sandbox.token);
    expect(installed.json.installation.billing.plan).toBe('yearly');

    const queued = await h.call('POST', '/workspaces/acme/apps/closealert/sync', { key: h.keys.admin });
    expect(queued.status).toBe(202);
    expect(['queued', 'running']).toContain(queued.json.status);
    const job = await waitForJob(h, h.keys.viewer, queued.json.id);
    expect(job.status).toBe('succeeded');

    const runs = await h.call('GET', '/workspaces/acme/runs?limit=1', { key: h.keys.viewer });
    expect(runs.status).toBe(200);
    const [run] = runs.json.items;
    expect(run.id).toBe(job.runId);
    expect(run.status).toBe('succeeded');
    expect(run.inserted).toBeGreaterThan(0);
    const detail = await h.call('GET', `/workspaces/acme/runs/${run.id}`, { key: h.keys.viewer });
    expect(detail.json.rejectedRecords).toBeInstanceOf(Array);
    let cursor: string | null = null;
    const seen: unknown[] = [];
    do {
      const page: { json: { items: unknown[]; next: string | null; total: number } } = await h.call(
        'GET',
        `/workspaces/acme/runs/${run.id}/customers?limit=25${cursor ? `&cursor=${cursor}` : ''}`,
        { key: h.keys.viewer },
      );
      seen.push(...page.json.items);
      cursor = page.json.next;
      expect(page.json.total).toBe(run.savedTotal);
    } while (cursor);
    expect(seen).toHaveLength(run.savedTotal);
    const rejected = await h.call('GET', `/workspaces/acme/runs/${run.id}/rejected?limit=500`, { key: h.keys.viewer });
    expect(rejected.status).toBe(200);
    expect(rejected.json.total).toBe(run.rejected);
    expect(rejected.json.items.map((r: { reason: string }) => r.reason)).toEqual(
      detail.json.rejectedRecords.map((r: { reason: string }) => r.reason),
    );

    // The run log's filters (status, start date) and the app's status for its page.
    const q = (query: string) => h.call('GET', `/workspaces/acme/runs?${query}`, { key: h.keys.viewer });
    expect((await q('status=succeeded')).json.items.map((r: { id: string }) => r.id)).toEqual([run.id]);
    expect((await q('status=failed')).json.items).toEqual([]);
    const started = new Date(run.startedAt).getTime();
    const iso = (ms: number) => encodeURIComponent(new Date(ms).toISOString());
    expect((await q(`from=${iso(started)}&to=${iso(started + 1)}`)).json.items).toHaveLength(1);
    expect((await q(`from=${iso(started + 1)}`)).json.items).toEqual([]);
    expect((await q('from=yesterday')).status).toBe(400);
    const status = await h.call('GET', '/workspaces/acme/apps/closealert/status', { key: h.keys.viewer });
    expect(status.status).toBe(200);
    expect(status.json.lastRun).toMatchObject({ id: run.id, status: 'succeeded', errorCode: null });
    // The same token reading as the doctor's, for viewers too.
    const doctor = await h.call('GET', '/workspaces/acme/doctor', { key: h.keys.admin });
    expect(status.json.token).toEqual(doctor.json.apps[0].token);
    expect(status.json.token.problem).toBeNull();
  });

  it('edits mappings with the CLI rules and remaps as a job', async () => {
    const list = await h.call('GET', '/workspaces/acme/apps/closealert/mappings', { key: h.keys.viewer });
    expect(list.json.items.length).toBeGreaterThan(3);
    const added = await h.call('POST', '/workspaces/acme/apps/closealert/mappings/add', {
      key: h.keys.admin,
      body: { source: 'merge_tags.segment', column: 'form_responses.segment', type: 'text' },
    });
    expect(added.status).toBe(200);
    expect(
      added.json.mappings.find((m: { target: string }) => m.target === 'form_responses.segment')?.state,
    ).toBe('added');
    const invalid = await h.call('POST', '/workspaces/acme/apps/closealert/mappings/set', {
      key: h.keys.admin,
      body: { column: 'form_responses.nope', source: 'email' },
    });
    expect(invalid.status).toBe(422);
    const remap = await h.call('POST', '/workspaces/acme/apps/closealert/remap', { key: h.keys.admin });
    expect(remap.status).toBe(202);
    const job = await waitForJob(h, h.keys.admin, remap.json.id);
    expect(job.status).toBe('succeeded');
    expect(job.progress.done).toBeGreaterThan(0);
    const reset = await h.call('POST', '/workspaces/acme/apps/closealert/mappings/reset', {
      key: h.keys.admin,
    });
    expect(reset.json.mappings.some((m: { state: string }) => m.state === 'added')).toBe(false);
  });

  it('previews an unsaved profile without recording it, then saves, runs and exports one', async () => {
    const definition = { match: { type: 'responded', withinDays: 3650 } };
    const preview = await h.call('POST', '/workspaces/acme/profiles/preview?limit=5', {
      key: h.keys.marketer,
      body: definition,
    });
    expect(preview.status).toBe(200);
    expect(preview.json.count).toBeGreaterThan(0);
    expect(preview.json.members.length).toBe(Math.min(5, preview.json.count));
    expect(preview.json.recorded).toBe(false);
    expect((await h.call('GET', '/workspaces/acme/profiles', { key: h.keys.viewer })).json.items).toEqual([]);

    const created = await h.call('POST', '/workspaces/acme/profiles', {
      key: h.keys.marketer,
      body: { name: 'everyone', ...definition },
    });
    expect(created.status).toBe(201);
    const run = await h.call('POST', '/workspaces/acme/profiles/everyone/run', { key: h.keys.marketer });
    expect(run.json.recorded).toBe(true);
    expect(run.json.count).toBe(preview.json.count);
    expect(run.json.entered).toHaveLength(run.json.count);
    expect(created.json.app).toBeNull();
    // The members a page at a time, and narrowed by part of an e-mail.
    const pages: { email: string }[] = [];
    let cursor: string | null = null;
    do {
      const page: { json: { items: { email: string }[]; next: string | null; total: number } } = await h.call(
        'GET',
        `/workspaces/acme/profiles/everyone/members?limit=7${cursor ? `&cursor=${cursor}` : ''}`,
        { key: h.keys.viewer },
      );
      expect(page.json.total).toBe(run.json.count);
      pages.push(...page.json.items);
      cursor = page.json.next;
    } while (cursor);
    expect(pages.map((m) => m.email)).toEqual([...run.json.entered].sort());
    const someone = pages[0]!.email;
    const part = someone.slice(0, someone.indexOf('@'));
    const searched = await h.call(
      'GET',
      `/workspaces/acme/profiles/everyone/members?q=${encodeURIComponent(part.toUpperCase())}`,
      { key: h.keys.viewer },
    );
    expect(searched.json.items.map((m: { email: string }) => m.email)).toContain(someone);
    expect(searched.json.items.every((m: { email: string }) => m.email.includes(part))).toBe(true);
    expect(searched.json.total).toBe(searched.json.items.length);
    const history = await h.call('GET', '/workspaces/acme/profiles/everyone/history', { key: h.keys.viewer });
    expect(history.json.items).toHaveLength(1);

    const csv = await h.call('GET', '/workspaces/acme/profiles/everyone/export?format=csv', {
      key: h.keys.marketer,
    });
    expect(csv.headers.get('content-type')).toContain('text/csv');
    const lines = csv.text.trim().split('\r\n');
    expect(lines[0]).toBe('email,customer_id,contact_id,response_id,form_id,score,responded_at');
    expect(lines).toHaveLength(run.json.count + 1);
    const json = await h.call('GET', '/workspaces/acme/profiles/everyone/export?format=json', {
      key: h.keys.marketer,
    });
    expect(json.json).toHaveLength(run.json.count);
    // A client that leaves after the first bytes: the export stops, and the store serves the next
    // request at once (on SQLite a stream that kept reading would hold its only connection).
    const leaving = new AbortController();
    const partial = await fetch(`${h.url}/workspaces/acme/profiles/everyone/export?format=csv`, {
      headers: { authorization: `Bearer ${h.keys.marketer}` },
      signal: leaving.signal,
    });
    const reader = partial.body!.getReader();
    const firstChunk = new TextDecoder().decode((await reader.read()).value);
    expect(firstChunk.startsWith('email,customer_id,')).toBe(true);
    leaving.abort();
    await reader.closed.catch(() => undefined);
    const again = await h.call('GET', '/workspaces/acme/profiles/everyone/export?format=csv', { key: h.keys.marketer });
    expect(again.text.trim().split('\r\n')).toEqual(lines);

    const updated = await h.call('PUT', '/workspaces/acme/profiles/everyone', {
      key: h.keys.marketer,
      body: { match: { type: 'score', op: '<', value: 0 } },
    });
    expect(updated.status).toBe(200);
    expect(updated.json.conditions).toContain('score < 0');
    // An edit keeps the history: the next run says everyone of the old definition left.
    const rerun = await h.call('POST', '/workspaces/acme/profiles/everyone/run', { key: h.keys.marketer });
    expect(rerun.json).toMatchObject({ count: 0, entered: [] });
    expect(rerun.json.left).toHaveLength(run.json.count);
    expect(
      (await h.call('DELETE', '/workspaces/acme/profiles/everyone', { key: h.keys.marketer })).status,
    ).toBe(204);
    expect((await h.call('GET', '/workspaces/acme/profiles/everyone', { key: h.keys.viewer })).status).toBe(
      404,
    );
  });

  it('counts the sync in /metrics and audits every change', async () => {
    const metrics = await h.call('GET', '/metrics');
    expect(metrics.status).toBe(200);
    expect(metrics.text).toMatch(/tributary_runs_total\{app="closealert",status="succeeded"\} 1/);
    expect(metrics.text).toMatch(/tributary_records_total\{app="closealert",kind="stored"\} [1-9]/);
    expect(metrics.text).toMatch(/tributary_run_duration_seconds_count\{app="closealert"\} 1/);
    expect(metrics.text).toMatch(
      /tributary_http_request_duration_seconds_count\{method="POST",route="\/workspaces\/:workspace\/apps\/:app\/sync",status="202"\} 1/,
    );
    expect(metrics.text).toMatch(/tributary_profile_evaluation_seconds_count [1-9]/);
    expect(metrics.text).toMatch(/tributary_source_requests_total\{app="closealert",status="200"\} [1-9]/);
    expect(metrics.text).toContain('tributary_queue_depth');
    const audit = await h.call('GET', '/workspaces/acme/audit?limit=500', { key: h.keys.admin });
    const actions = audit.json.items.map(
      (e: { action: string; outcome: string }) => `${e.action}:${e.outcome}`,
    );
    expect(actions).toEqual(
      expect.arrayContaining([
        'installation.install:ok',
        'installation.install:failed',
        'installation.sync:ok',
        'mapping.add:ok',
        'profile.create:ok',
        'profile.delete:ok',
      ]),
    );
    expect(JSON.stringify(audit.json)).not.toContain(h.sandbox.token);
  });

  it('changes billing and uninstalls with purge', async () => {
    const billing = await h.call('PUT', '/workspaces/acme/apps/closealert/billing', {
      key: h.keys.admin,
      body: { plan: 'monthly', poNumber: 'PO-7' },
    });
    expect(billing.json.billing).toEqual({ plan: 'monthly', poNumber: 'PO-7' });
    const invoices = await h.call('GET', '/workspaces/acme/invoices', { key: h.keys.admin });
    expect(invoices.status).toBe(200);
    const doctor = await h.call('GET', '/workspaces/acme/doctor', { key: h.keys.admin });
    expect(doctor.json.apps).toHaveLength(1);
    const gone = await h.call('DELETE', '/workspaces/acme/apps/closealert?purge=true', { key: h.keys.admin });
    expect(gone.json.purged).toBe(true);
    expect((await h.call('GET', '/workspaces/acme/apps/closealert', { key: h.keys.viewer })).status).toBe(
      404,
    );
  });
});
