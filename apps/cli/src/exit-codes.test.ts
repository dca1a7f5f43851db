import { createServer, type AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { ConfigError } from '@tributary/core';
import { CommandFailed, describeFailure, exitCodeFor, StoppedBySignal } from './exit-codes.js';

describe('exit codes', () => {
  it('gives a command stopped by a signal 128 + the signal number, as shells do', () => {
    expect(exitCodeFor(new StoppedBySignal('SIGINT', 'stopped'))).toBe(130);
    expect(exitCodeFor(new StoppedBySignal('SIGTERM', 'stopped'))).toBe(143);
    expect(describeFailure(new StoppedBySignal('SIGTERM', 'The sync was stopped by SIGTERM.'))).toBe('The sync was stopped by SIGTERM.');
  });

  it('keeps the other codes', () => {
    expect(exitCodeFor(new CommandFailed('x'))).toBe(1);
    expect(exitCodeFor(new ConfigError('USAGE', 'x'))).toBe(2);
    expect(exitCodeFor(new Error('x'))).toBe(70);
  });

  it('turns a port another process holds into a user error that says what to do', async () => {
    const holder = createServer();
    await new Promise<void>((resolve) => holder.listen(0, '127.0.0.1', resolve));
    const { port } = holder.address() as AddressInfo;
    const second = createServer();
    const failure = await new Promise<Error>((resolve) => {
      second.once('error', resolve);
      second.listen(port, '127.0.0.1');
    });
    holder.close();
    expect(exitCodeFor(failure)).toBe(2);
    const text = describeFailure(failure);
    expect(text).toContain(`error [LISTEN_FAILED]: Cannot listen on 127.0.0.1:${port}: another process is listening on it.`);
    expect(text).toContain('--port');
    expect(text).not.toContain('This is a bug');
  });
});
