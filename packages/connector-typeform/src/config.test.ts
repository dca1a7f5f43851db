import { describe, expect, it } from 'vitest';
import { EU_BASE_URL, US_BASE_URL, baseUrlOf, typeformConfigSchema, typeformSourceIdentity } from './config.js';

describe('typeform config', () => {
  it('takes the region\'s API unless a base URL is given', () => {
    expect(baseUrlOf(typeformConfigSchema.parse({ token: 'tfp_x' }))).toBe(US_BASE_URL);
    expect(baseUrlOf(typeformConfigSchema.parse({ token: 'tfp_x', region: 'eu' }))).toBe(EU_BASE_URL);
    expect(baseUrlOf(typeformConfigSchema.parse({ token: 'tfp_x', region: 'eu', baseUrl: 'http://127.0.0.1:4020/' }))).toBe('http://127.0.0.1:4020');
  });

  it('reads a list of forms from text with commas, as --forms and --set give it, and refuses ids that could change a URL', () => {
    expect(typeformConfigSchema.parse({ token: 'tfp_x', forms: ' u6nXL7, abc-1 ' }).forms).toEqual(['u6nXL7', 'abc-1']);
    expect(typeformConfigSchema.parse({ token: 'tfp_x', forms: ['u6nXL7'] }).forms).toEqual(['u6nXL7']);
    for (const forms of ['../x', 'a/b', 'a%2F', '']) expect(typeformConfigSchema.safeParse({ token: 'tfp_x', forms }).success).toBe(false);
  });

  it('refuses plain http to another host unless asked, and never repeats the token in a message', () => {
    const refused = typeformConfigSchema.safeParse({ token: 'tfp_secret', baseUrl: 'http://typeform.example.com' });
    expect(refused.success).toBe(false);
    expect(JSON.stringify(refused.error)).not.toContain('tfp_secret');
    expect(typeformConfigSchema.safeParse({ token: 'tfp_secret', baseUrl: 'http://typeform.example.com', allowInsecureHttp: true }).success).toBe(true);
    expect(typeformConfigSchema.safeParse({ token: 'tfp secret' }).success).toBe(false);
    expect(typeformConfigSchema.safeParse({ token: 'tfp_x', pageSize: 1001 }).success).toBe(false);
  });

  it('names the source by its API and form selection: the same ones in other words are the same source', () => {
    const identity = (input: Record<string, unknown>) => JSON.stringify(typeformSourceIdentity(typeformConfigSchema.parse({ token: 'tfp_x', ...input })));
    expect(identity({ region: 'eu' })).toBe(identity({ baseUrl: 'https://API.eu.typeform.com/' }));
    expect(identity({ forms: 'b2,a1,b2' })).toBe(identity({ forms: ['a1', 'b2'], token: 'tfp_other', backfillDays: 5 }));
    expect(identity({})).not.toBe(identity({ region: 'eu' }));
    expect(identity({})).not.toBe(identity({ forms: 'a1' }));
    expect(identity({ forms: 'a1' })).not.toBe(identity({ forms: 'a1,b2' }));
  });
});
