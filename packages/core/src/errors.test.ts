import { describe, expect, it } from 'vitest';
import { ConfigError, InternalError, SourceApiError, StorageError, toTributaryError } from './errors.js';
import { parseUserInput } from './validation.js';
import { z } from 'zod';

describe('errors', () => {
  it('carry a code, the actor who must act, and the cause', () => {
    const cause = new Error('socket hang up');
    const error = new SourceApiError('SOURCE_UNAVAILABLE', 'CloseAlert did not answer', { retryable: true, retryAfterMs: 500, cause });
    expect(error).toBeInstanceOf(Error);
    expect(error.name).toBe('SourceApiError');
    expect(error).toMatchObject({ code: 'SOURCE_UNAVAILABLE', actor: 'source', retryable: true, retryAfterMs: 500, cause });
    expect(new ConfigError('CONFIG_INVALID', 'x').actor).toBe('user');
    expect(new StorageError('STORE_UNREACHABLE', 'x').actor).toBe('store');
    expect(new InternalError('INTERNAL', 'x').actor).toBe('bug');
  });

  it('wrap unknown failures as bugs and keep Tributary errors as they are', () => {
    const config = new ConfigError('CONFIG_INVALID', 'x');
    expect(toTributaryError(config)).toBe(config);
    const wrapped = toTributaryError(new TypeError('undefined is not a function'));
    expect(wrapped).toBeInstanceOf(InternalError);
    expect(wrapped.message).toContain('undefined is not a function');
  });

  it('parseUserInput names each bad field', () => {
    const schema = z.object({ port: z.number().int(), host: z.string() });
    expect(() => parseUserInput(schema, { port: 'x' }, 'sandbox options')).toThrow('Invalid sandbox options: port must be a number; host is required.');
  });
});
