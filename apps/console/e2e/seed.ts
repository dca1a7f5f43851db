import { sandboxSettings, WORKSPACE, type ConsoleHarness } from './harness.js';

// Synced data for the pages that show it: CloseAlert installed against the sandbox and synced once,
// through the public API with an administrator's API key (what a script would do).

export interface ApiCaller {
  /** Calls the API as the workspace's administrator; throws on an error answer. */
  call<T = unknown>(method: string, path: string, body?: unknown): Promise<T>;
  /** The raw text of a GET (exports). */
  text(path: string): Promise<string>;
}

export async function adminCaller(h: ConsoleHarness): Promise<ApiCaller> {
  const { secret } = await h.auth.createApiKey({ workspace: WORKSPACE, role: 'admin', name: 'e2e seed', actor: 'test' });
  const request = async (method: string, path: string, body?: unknown) => {
    const response = await fetch(`${h.url}${path}`, {
      method,
      headers: { authorization: `Bearer ${secret}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await response.text();
    if (!response.ok) throw new Error(`${method} ${path} answered ${response.status}: ${text}`);
    return text;
  };
  return {
    async call<T>(method: string, path: string, body?: unknown) {
      const text = await request(method, path, body);
      return (text ? JSON.parse(text) : undefined) as T;
    },
    text: (path: string) => request('GET', path),
  };
}

/** Installs CloseAlert against the sandbox and runs one sync to the end; returns the run's id. */
export async function installAndSync(h: ConsoleHarness, api: ApiCaller): Promise<string> {
  await api.call('POST', `/workspaces/${WORKSPACE}/apps/closealert`, {
    config: { ...sandboxSettings(h.sandbox), backfillDays: 30 },
    billing: { plan: 'monthly' },
  });
  return syncAndWait(api);
}

/** Queues one sync of CloseAlert and waits for it to end; returns the run's id. */
export async function syncAndWait(api: ApiCaller): Promise<string> {
  const queued = await api.call<{ id: string }>('POST', `/workspaces/${WORKSPACE}/apps/closealert/sync`);
  for (let attempt = 0; attempt < 600; attempt += 1) {
    const job = await api.call<{ status: string; runId?: string; error?: unknown }>('GET', `/workspaces/${WORKSPACE}/jobs/${queued.id}`);
    if (job.status === 'succeeded' && job.runId) return job.runId;
    if (!['queued', 'running'].includes(job.status)) throw new Error(`The sync job ended ${job.status}: ${JSON.stringify(job.error)}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error('The sync job did not finish.');
}

/** "Everyone of the past ten days who answered the score question of form 34 with 1, or below 3." */
export const MANUAL_PROFILE = {
  description: '',
  over: 'any-response' as const,
  match: {
    all: [
      { type: 'responded', withinDays: 10 },
      { type: 'form', id: 34 },
      { type: 'question', formId: 34, questionIndex: '1' },
      { any: [{ type: 'score', op: '=', value: 1 }, { type: 'score', op: '<', value: 3 }] },
    ],
  },
};
