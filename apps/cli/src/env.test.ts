import { delimiter } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DEFAULT_DESTINATION_LIMITS, isTributaryError } from '@tributary/core';
import { destinationLimitsOf, readEnv } from './env.js';

describe('the operator’s destination limits from the environment', () => {
  it('are the strict defaults when unset or blank', () => {
    expect(destinationLimitsOf(readEnv({}))).toEqual(DEFAULT_DESTINATION_LIMITS);
    expect(destinationLimitsOf(readEnv({ TRIBUTARY_FILE_DESTINATION_ROOTS: '', TRIBUTARY_WEBHOOK_ALLOW_HOSTS: '' }))).toEqual(DEFAULT_DESTINATION_LIMITS);
  });

  it('split roots on the path delimiter and hosts on commas, trimmed', () => {
    const env = readEnv({
      TRIBUTARY_FILE_DESTINATION_ROOTS: ` /srv/drops ${delimiter}/var/spool/tributary${delimiter}`,
      TRIBUTARY_WEBHOOK_ALLOW_HOSTS: '127.0.0.1, hooks.intranet ,10.20.0.0/16,[::1]',
    });
    expect(destinationLimitsOf(env)).toEqual({
      fileRoots: ['/srv/drops', '/var/spool/tributary'],
      webhookAllowHosts: ['127.0.0.1', 'hooks.intranet', '10.20.0.0/16', '[::1]'],
    });
  });

  it.each([
    ['TRIBUTARY_FILE_DESTINATION_ROOTS', 'relative/drops'],
    ['TRIBUTARY_WEBHOOK_ALLOW_HOSTS', 'http://hooks.intranet'],
    ['TRIBUTARY_WEBHOOK_ALLOW_HOSTS', '10.0.0.0/40'],
  ])('refuse %s=%s, naming the variable', (name, value) => {
    let code = '';
    let message = '';
    try {
      readEnv({ [name]: value });
    } catch (error) {
      if (!isTributaryError(error)) throw error;
      ({ code, message } = error);
    }
    expect(code).toBe('ENV_INVALID');
    expect(message).toContain(name);
  });
});

describe('the API look-up cache from the environment', () => {
  it('is off unless the operator sets it, and refuses what is not a whole number of milliseconds up to a minute', () => {
    expect(readEnv({}).TRIBUTARY_PRINCIPAL_CACHE_MS).toBe(0);
    expect(readEnv({ TRIBUTARY_PRINCIPAL_CACHE_MS: '3000' }).TRIBUTARY_PRINCIPAL_CACHE_MS).toBe(3000);
    for (const bad of ['soon', '-1', '1.5', '600000']) {
      expect(() => readEnv({ TRIBUTARY_PRINCIPAL_CACHE_MS: bad })).toThrow(/TRIBUTARY_PRINCIPAL_CACHE_MS/);
    }
  });
});
