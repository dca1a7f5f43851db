import { describe, expect, it } from 'vitest';
import { formatFeedback } from './format.js';

describe('formatFeedback', () => {
  it('shows the contact, the label, then each field as name=value in the order given', () => {
    expect(formatFeedback({ key: '7', contact: 'ann@example.com', label: 'NPS', fields: { score: 4, comment: 'great mail', late: true, plan: null } })).toBe(
      'ann@example.com (NPS, score=4, comment="great mail", late=true, plan=null)',
    );
  });

  it('names a record without a contact by its key, and cuts long text', () => {
    expect(formatFeedback({ key: '11', fields: { comment: 'x'.repeat(100) } })).toBe(`(no contact, record 11) (comment="${'x'.repeat(77)}...")`);
    expect(formatFeedback({ key: '12' })).toBe('(no contact, record 12)');
    expect(formatFeedback({ contact: 'bo@example.com' })).toBe('bo@example.com');
  });
});
