import { describe, expect, it } from 'vitest';
import type { BillingAccount } from '@tributary/core';
import { duePeriods, invoicesDue, monthsSince } from './billing.js';

const at = (iso: string) => new Date(iso);
const starts = (periods: { start: Date }[]) => periods.map((p) => p.start.toISOString().slice(0, 10));

describe('duePeriods', () => {
  const anchor = at('2025-01-15T10:00:00.000Z');

  it('bills the first month at install, in advance', () => {
    const periods = duePeriods({ anchor, plan: 'monthly', billedMonths: 0, now: anchor });
    expect(periods).toEqual([{ start: anchor, end: at('2025-02-15T10:00:00.000Z'), months: 1 }]);
  });

  it('bills one month per started month, and nothing before a month starts', () => {
    expect(starts(duePeriods({ anchor, plan: 'monthly', billedMonths: 0, now: at('2025-04-15T09:59:59.999Z') }))).toEqual([
      '2025-01-15',
      '2025-02-15',
      '2025-03-15',
    ]);
    expect(starts(duePeriods({ anchor, plan: 'monthly', billedMonths: 0, now: at('2025-04-15T10:00:00.000Z') }))).toHaveLength(4);
  });

  it('continues after the months already billed', () => {
    expect(starts(duePeriods({ anchor, plan: 'monthly', billedMonths: 2, now: at('2025-04-20T00:00:00.000Z') }))).toEqual([
      '2025-03-15',
      '2025-04-15',
    ]);
    expect(duePeriods({ anchor, plan: 'monthly', billedMonths: 4, now: at('2025-04-20T00:00:00.000Z') })).toEqual([]);
  });

  it('bills a yearly plan once for twelve months, in advance', () => {
    const first = duePeriods({ anchor, plan: 'yearly', billedMonths: 0, now: at('2025-12-31T00:00:00.000Z') });
    expect(first).toEqual([{ start: anchor, end: at('2026-01-15T10:00:00.000Z'), months: 12 }]);
    expect(duePeriods({ anchor, plan: 'yearly', billedMonths: 12, now: at('2026-01-15T09:00:00.000Z') })).toEqual([]);
    expect(starts(duePeriods({ anchor, plan: 'yearly', billedMonths: 12, now: at('2026-01-15T10:00:00.000Z') }))).toEqual(['2026-01-15']);
  });

  it('bills nothing that starts at or after the uninstall', () => {
    const endedAt = at('2025-03-20T00:00:00.000Z');
    expect(starts(duePeriods({ anchor, plan: 'monthly', billedMonths: 0, now: at('2026-01-01T00:00:00.000Z'), endedAt }))).toEqual([
      '2025-01-15',
      '2025-02-15',
      '2025-03-15',
    ]);
    expect(duePeriods({ anchor, plan: 'monthly', billedMonths: 0, now: anchor, endedAt: anchor })).toEqual([]);
  });

  it('keeps the billing day of an install on the 31st through short months', () => {
    const end = at('2024-01-31T00:00:00.000Z');
    const periods = duePeriods({ anchor: end, plan: 'monthly', billedMonths: 0, now: at('2024-05-01T00:00:00.000Z') });
    expect(starts(periods)).toEqual(['2024-01-31', '2024-02-29', '2024-03-31', '2024-04-30']);
    expect(periods.map((p) => p.end.toISOString().slice(0, 10))).toEqual(['2024-02-29', '2024-03-31', '2024-04-30', '2024-05-31']);
    for (const [i, period] of periods.entries()) expect(monthsSince(end, period.end)).toBe(i + 1);
  });

  it('continues under a new plan from the end of the last period', () => {
    const periods = duePeriods({ anchor, plan: 'yearly', billedMonths: 3, now: at('2025-04-15T10:00:00.000Z') });
    expect(periods).toEqual([{ start: at('2025-04-15T10:00:00.000Z'), end: at('2026-04-15T10:00:00.000Z'), months: 12 }]);
  });
});

describe('invoicesDue', () => {
  const account: BillingAccount = {
    installationId: '00000000-0000-4000-8000-000000000001',
    workspace: 'acme',
    app: 'closealert',
    status: 'active',
    installedAt: at('2025-01-15T10:00:00.000Z'),
    billing: { plan: 'monthly', poNumber: 'PO-7' },
  };
  const pricing = { monthly: { amount: 25, currency: 'EUR' }, yearly: { amount: 249.99, currency: 'EUR' } };

  it('prices each period in cents and carries the PO number', () => {
    const due = invoicesDue(account, pricing, at('2025-02-16T00:00:00.000Z'));
    expect(due.map((i) => [i.periodStart.toISOString().slice(0, 10), i.amountMinor, i.currency, i.poNumber])).toEqual([
      ['2025-01-15', 2500, 'EUR', 'PO-7'],
      ['2025-02-15', 2500, 'EUR', 'PO-7'],
    ]);
  });

  it('starts after the last invoice, under the current plan', () => {
    const yearly: BillingAccount = { ...account, billing: { plan: 'yearly' }, billedUntil: at('2025-02-15T10:00:00.000Z') };
    const due = invoicesDue(yearly, pricing, at('2025-03-01T00:00:00.000Z'));
    expect(due).toHaveLength(1);
    expect(due[0]).toMatchObject({ plan: 'yearly', amountMinor: 24999, periodStart: at('2025-02-15T10:00:00.000Z'), periodEnd: at('2026-02-15T10:00:00.000Z') });
    expect(due[0]).not.toHaveProperty('poNumber');
  });

  it('stops at the uninstall', () => {
    const gone: BillingAccount = { ...account, status: 'uninstalled', uninstalledAt: at('2025-02-01T00:00:00.000Z') };
    expect(invoicesDue(gone, pricing, at('2025-12-01T00:00:00.000Z'))).toHaveLength(1);
  });
});
