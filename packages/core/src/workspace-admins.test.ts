import { describe, expect, it } from 'vitest';
import { operatorNameSchema } from './workspace-admins.js';

describe('operatorNameSchema', () => {
  it('takes login names and e-mail addresses, trimmed', () => {
    expect(operatorNameSchema.parse(' alice ')).toBe('alice');
    expect(operatorNameSchema.parse('bob@company.com')).toBe('bob@company.com');
    expect(operatorNameSchema.parse('Zoë van Dijk')).toBe('Zoë van Dijk');
  });

  it('refuses empty names, control characters and very long names', () => {
    for (const bad of ['', '   ', 'a\nb', 'a\u0000b', 'a\u007fb', 'x'.repeat(201)]) expect(operatorNameSchema.safeParse(bad).success).toBe(false);
  });
});
