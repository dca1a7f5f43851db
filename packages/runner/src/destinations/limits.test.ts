import { describe, expect, it } from 'vitest';
import { DEFAULT_DESTINATION_LIMITS, isTributaryError } from '@tributary/core';
import { checkFileDirectory, checkWebhookUrl, isWebhookAllowEntry, nonPublicKindOf } from './limits.js';

// The address rules on literal addresses only: no name is resolved and no file is touched here
// (the integration tests resolve names, follow links and send real requests).

async function refusal(promise: Promise<unknown>): Promise<{ code: string; message: string; hint: string }> {
  try {
    await promise;
  } catch (error) {
    if (!isTributaryError(error)) throw error;
    return { code: error.code, message: error.message, hint: error.hint ?? '' };
  }
  throw new Error('expected a refusal');
}

describe('nonPublicKindOf', () => {
  it.each([
    ['127.0.0.1', 'loopback'],
    ['127.255.0.9', 'loopback'],
    ['::1', 'loopback'],
    ['::ffff:127.0.0.1', 'loopback'],
    ['169.254.169.254', 'link-local'],
    ['fe80::1', 'link-local'],
    ['10.1.2.3', 'private'],
    ['172.16.0.1', 'private'],
    ['172.31.255.255', 'private'],
    ['192.168.1.1', 'private'],
    ['fd12:3456::1', 'private'],
    ['::ffff:10.0.0.1', 'private'],
    ['100.64.0.1', 'private'],
    ['0.0.0.0', 'unspecified'],
    ['::', 'unspecified'],
    ['255.255.255.255', 'reserved'],
    ['224.0.0.1', 'reserved'],
  ])('%s is %s', (address, kind) => {
    expect(nonPublicKindOf(address)).toBe(kind);
  });

  it.each(['93.184.216.34', '172.32.0.1', '8.8.8.8', '2606:4700::1111', '::ffff:8.8.8.8'])('%s is public', (address) => {
    expect(nonPublicKindOf(address)).toBeUndefined();
  });
});

describe('isWebhookAllowEntry', () => {
  it.each(['hooks.example.com', 'localhost', '127.0.0.1', '::1', '[::1]', '10.0.0.0/8', 'fd00::/8'])('accepts %s', (entry) => {
    expect(isWebhookAllowEntry(entry)).toBe(true);
  });
  it.each(['http://x', '10.0.0.0/33', '::1/129', 'a b', 'host/8', ''])('refuses %s', (entry) => {
    expect(isWebhookAllowEntry(entry)).toBe(false);
  });
});

describe('checkWebhookUrl on literal addresses', () => {
  it.each(['http://127.0.0.1:8080/hook', 'https://169.254.169.254/latest/meta-data', 'https://10.1.2.3/hook', 'https://[::1]/hook', 'https://0.0.0.0/', 'https://[::ffff:169.254.169.254]/'])(
    'refuses %s by default, naming the variable the operator sets',
    async (url) => {
      const refused = await refusal(checkWebhookUrl(url, DEFAULT_DESTINATION_LIMITS));
      expect(refused.code).toBe('DESTINATION_URL_NOT_ALLOWED');
      expect(refused.hint).toContain('TRIBUTARY_WEBHOOK_ALLOW_HOSTS');
    },
  );

  it('lets an allowed address or range through, http included, and pins the address', async () => {
    const limits = { fileRoots: [], webhookAllowHosts: ['127.0.0.1', '10.0.0.0/8'] };
    expect(await checkWebhookUrl('http://127.0.0.1:9/hook', limits)).toEqual({ host: '127.0.0.1', addresses: [{ address: '127.0.0.1', family: 4 }] });
    expect((await checkWebhookUrl('https://10.200.0.7/hook', limits)).addresses).toEqual([{ address: '10.200.0.7', family: 4 }]);
    // Allowing one address allows no other.
    expect((await refusal(checkWebhookUrl('https://169.254.169.254/', limits))).message).toContain('link-local');
    expect((await refusal(checkWebhookUrl('https://127.0.0.2/', limits))).message).toContain('loopback');
  });

  it('refuses plain http to a public address unless the operator lists it', async () => {
    const refused = await refusal(checkWebhookUrl('http://93.184.216.34/hook?token=abc', DEFAULT_DESTINATION_LIMITS));
    expect(refused).toMatchObject({ code: 'DESTINATION_URL_NOT_ALLOWED' });
    expect(refused.message).toContain('plain http');
    // The query may carry a credential: never shown.
    expect(refused.message).not.toContain('abc');
    expect(await checkWebhookUrl('https://93.184.216.34/hook', DEFAULT_DESTINATION_LIMITS)).toMatchObject({ host: '93.184.216.34' });
    expect(await checkWebhookUrl('http://93.184.216.34/hook', { fileRoots: [], webhookAllowHosts: ['93.184.216.34'] })).toMatchObject({ host: '93.184.216.34' });
  });
});

describe('checkFileDirectory without roots', () => {
  it('leaves the operator free and refuses a workspace administrator, saying what the operator sets', async () => {
    expect(await checkFileDirectory('/anywhere/at/all', DEFAULT_DESTINATION_LIMITS, 'operator')).toBe('/anywhere/at/all');
    const refused = await refusal(checkFileDirectory('/anywhere/at/all', DEFAULT_DESTINATION_LIMITS, 'workspace-admin'));
    expect(refused.code).toBe('DESTINATION_DIRECTORY_NOT_ALLOWED');
    expect(refused.hint).toContain('TRIBUTARY_FILE_DESTINATION_ROOTS');
  });
});
