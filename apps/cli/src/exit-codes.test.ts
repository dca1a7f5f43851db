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
});
