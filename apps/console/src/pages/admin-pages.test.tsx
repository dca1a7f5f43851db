import { cleanup, render, screen } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { ApiError } from '../api/client';
import { explainRefusal } from './mappings';
import { newPasswordProblem } from './password';
import { InstallForm } from './store';
import { tablesOf } from './uninstall';

const connector = {
  id: 'closealert',
  name: 'CloseAlert',
  description: 'Survey responses',
  version: '1.0.0',
  pricing: null,
  secretFields: ['apiToken'],
  config: {
    type: 'object',
    properties: {
      projectKey: { type: 'string', description: 'project key' },
      apiToken: { type: 'string', writeOnly: true, 'x-secret': true },
      pageSize: { type: 'integer', minimum: 1, maximum: 250, default: 250 },
    },
    required: ['projectKey', 'apiToken'],
  },
};

describe('the install dialog form', () => {
  afterEach(cleanup);

  it('asks for each setting by its label, the token as a password the browser does not keep', () => {
    render(<InstallForm workspace="acme" connector={connector} onInstalled={() => undefined} onCancel={() => undefined} />);
    const token = screen.getByLabelText(/API token/);
    expect(token.getAttribute('type')).toBe('password');
    expect(token.getAttribute('autocomplete')).toBe('new-password');
    expect(screen.getByLabelText(/Project key/).getAttribute('type')).toBe('text');
    expect(screen.getByLabelText(/Page size/).getAttribute('type')).toBe('number');
    expect(screen.getByRole('radio', { name: 'Yearly' })).toBeDefined();
    expect(screen.getByLabelText(/PO number/)).toBeDefined();
    // Nothing can be installed before the connection was checked.
    expect(screen.getByRole('button', { name: 'Install' })).toHaveProperty('disabled', true);
  });

  it('explains missing settings beside their inputs without calling the server', async () => {
    const fetchSpy = vi.spyOn(globalThis, 'fetch');
    render(<InstallForm workspace="acme" connector={connector} onInstalled={() => undefined} onCancel={() => undefined} />);
    await userEvent.type(screen.getByLabelText(/Page size/), '900');
    await userEvent.click(screen.getByRole('button', { name: 'Check connection' }));
    expect(screen.getByText('Project key is required.')).toBeDefined();
    expect(screen.getByText('API token is required.')).toBeDefined();
    expect(screen.getByText('Page size must be at most 250.')).toBeDefined();
    expect(screen.getByLabelText(/Project key/).getAttribute('aria-invalid')).toBe('true');
    expect(fetchSpy).not.toHaveBeenCalled();
    fetchSpy.mockRestore();
  });
});

describe('the admin pages’ rules', () => {
  it('names the tables an uninstall with purge empties', () => {
    expect(tablesOf(['responses.score', 'contacts.email', 'responses.comment'])).toEqual(['contacts', 'responses']);
  });

  it('turns a mapping refusal into one the page can force, and leaves other errors alone', () => {
    const refusal = explainRefusal(new ApiError(409, 'MAPPING_IN_USE', 'Profile "x" reads it. Nothing was changed.', 'run again with --force'));
    expect(refusal.forceable).toBe(true);
    expect((refusal.error as ApiError).hint).toMatch(/Change it anyway/);
    expect((refusal.error as ApiError).message).toMatch(/Nothing was changed/);
    const other = new ApiError(422, 'MAPPING_INVALID', 'no such field');
    expect(explainRefusal(other)).toEqual({ error: other, forceable: false });
  });

  it('checks a new password before sending it', () => {
    expect(newPasswordProblem('one-time-pass', 'short', 'short')).toMatch(/at least 12/);
    expect(newPasswordProblem('one-time-pass', 'a long new passphrase', 'a long new passphrase!')).toMatch(/differ/);
    expect(newPasswordProblem('same same same', 'same same same', 'same same same')).toMatch(/must differ/);
    expect(newPasswordProblem('one-time-pass', 'a long new passphrase', 'a long new passphrase')).toBeUndefined();
  });
});
