import { describe, expect, it } from 'vitest';
import { describeIssues } from '@tributary/sdk';
import { closeAlertConfigSchema } from './config.js';

// A structurally valid JWT with a fake signature; it opens nothing.
const TOKEN = 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ0ZXN0In0.c2lnbmF0dXJl';

function parse(input: Record<string, unknown>) {
  return closeAlertConfigSchema.safeParse({ projectKey: 'company.com', apiToken: TOKEN, ...input });
}

function failure(input: Record<string, unknown>): string {
  const result = parse(input);
  if (result.success) throw new Error(`expected ${JSON.stringify(input)} to be refused`);
  return describeIssues(result.error);
}

describe('closeAlertConfigSchema', () => {
  it('fills in the defaults', () => {
    const result = parse({});
    expect(result.success).toBe(true);
    expect(result.data).toEqual({
      projectKey: 'company.com',
      apiToken: TOKEN,
      baseUrl: 'https://api.closealert.com/v1',
      backfillDays: 90,
      timeZone: 'UTC',
      pageSize: 250,
      lookbackMinutes: 60,
      reconcileDays: 7,
    });
  });

  it.each(['company.com', 'shop.example.co.uk', 'my-shop_2.nl', 'a', 'A1', 'x-y.z'])(
    'accepts the project key %s',
    (key) => {
      expect(parse({ projectKey: key }).success).toBe(true);
    },
  );

  it.each([
    '../x',
    'a/b',
    'a\\b',
    'a?x=1',
    'a#b',
    '%2e%2e',
    'a%2Fb',
    'a b',
    ' company.com',
    'company..com',
    '..',
    '.company.com',
    'company.com.',
    '-company',
    'user@company.com',
    'company.com:443',
    '',
    'a\nb',
  ])('refuses the project key %j and names the field', (key) => {
    const message = failure({ projectKey: key });
    expect(message).toMatch(/^projectKey: /);
    expect(message).toContain('company.com');
  });

  it('refuses a missing or malformed token without echoing it', () => {
    expect(failure({ apiToken: '' })).toMatch(/^apiToken: /);
    const secretLooking = 'not-a-jwt-but-a-secret-value';
    const message = failure({ apiToken: secretLooking });
    expect(message).toMatch(/^apiToken: .*JWT/);
    expect(message).not.toContain(secretLooking);
    expect(failure({ apiToken: 'a.b' })).toMatch(/^apiToken: /);
    expect(failure({ apiToken: 'a.b.c.d' })).toMatch(/^apiToken: /);
    expect(failure({ apiToken: 'a.b+/.c' })).toMatch(/^apiToken: /);
  });

  it('trims a pasted token', () => {
    expect(parse({ apiToken: `  ${TOKEN}\n` }).data?.apiToken).toBe(TOKEN);
  });

  it('strips trailing slashes from the base URL and refuses query, fragment and credentials', () => {
    expect(parse({ baseUrl: 'http://127.0.0.1:4010/v1/' }).data?.baseUrl).toBe('http://127.0.0.1:4010/v1');
    expect(parse({ baseUrl: 'https://api.closealert.com/v1//' }).data?.baseUrl).toBe(
      'https://api.closealert.com/v1',
    );
    expect(failure({ baseUrl: 'https://api.closealert.com/v1?x=1' })).toMatch(/^baseUrl: .*query/);
    expect(failure({ baseUrl: 'https://api.closealert.com/v1#top' })).toMatch(/^baseUrl: .*fragment/);
    expect(failure({ baseUrl: 'ftp://api.closealert.com/v1' })).toMatch(/^baseUrl: .*http/);
    expect(failure({ baseUrl: 'not a url' })).toMatch(/^baseUrl: /);
    expect(failure({ baseUrl: 'https://user:pw@api.closealert.com/v1' })).toMatch(/^baseUrl: /);
  });

  it('refuses plain http to another host than this machine unless allowInsecureHttp', () => {
    for (const local of ['http://127.0.0.1:4010/v1', 'http://127.8.9.10/v1', 'http://localhost:4010/v1', 'http://[::1]:4010/v1']) {
      expect(parse({ baseUrl: local }).success, local).toBe(true);
    }
    for (const remote of ['http://api.closealert.com/v1', 'http://10.0.0.5/v1', 'http://[::2]/v1', 'http://127.0.0.1.evil.example/v1', 'http://localhost.evil.example/v1']) {
      expect(failure({ baseUrl: remote }), remote).toMatch(/^baseUrl: uses plain http to .*token would travel in clear.*--allow-insecure-http/);
      expect(parse({ baseUrl: remote, allowInsecureHttp: true }).success, remote).toBe(true);
    }
  });

  it('checks the numeric settings and the time zone', () => {
    expect(
      parse({ formId: 34, backfillDays: 365, pageSize: 1, lookbackMinutes: 0, timeZone: 'Europe/Amsterdam' })
        .success,
    ).toBe(true);
    expect(failure({ formId: 0 })).toMatch(/^formId: /);
    expect(failure({ formId: 1.5 })).toMatch(/^formId: /);
    expect(failure({ backfillDays: 0 })).toMatch(/^backfillDays: /);
    expect(failure({ backfillDays: 3651 })).toMatch(/^backfillDays: /);
    expect(failure({ pageSize: 251 })).toMatch(/^pageSize: /);
    expect(failure({ pageSize: 0 })).toMatch(/^pageSize: /);
    expect(failure({ lookbackMinutes: 1441 })).toMatch(/^lookbackMinutes: /);
    expect(failure({ lookbackMinutes: -1 })).toMatch(/^lookbackMinutes: /);
    expect(failure({ timeZone: 'Mars/Olympus' })).toMatch(/^timeZone: .*IANA/);
  });
});
