import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BillingSettings, Installation, Invoice } from '@tributary/core';
import { closeAlertConnector } from '@tributary/connector-closealert';
import { createSecretCipher, createStore, type TypeOrmStore } from '@tributary/store-typeorm';
import { testDatabases, type TestDatabase } from '@tributary/testing';
import { produceInvoices } from './billing.js';

// Invoices over a simulated year and a bit, driven by the runner's clock one day at a time, for
// both plans, with uninstalls and a plan change half-way. The periods are checked by their
// properties (contiguous, one plan length each, covering exactly the installed time), not by
// recomputing them the way the code does.

const databases = await testDatabases('runner-billing');
const DAY = 24 * 60 * 60 * 1000;
/** The runner's clock advances this many days per tick. */
const STEP_DAYS = 2;
const connectors = [closeAlertConnector];

function monthsBetween(a: Date, b: Date): number {
  return (b.getUTCFullYear() - a.getUTCFullYear()) * 12 + (b.getUTCMonth() - a.getUTCMonth());
}

/** Invoices of one installation form one unbroken chain from the install time, each of its plan's length. */
function expectChain(invoices: readonly Invoice[], installation: Installation): void {
  expect(invoices[0]?.periodStart).toEqual(installation.createdAt);
  for (const [i, invoice] of invoices.entries()) {
    expect(monthsBetween(invoice.periodStart, invoice.periodEnd)).toBe(invoice.plan === 'monthly' ? 1 : 12);
    expect(invoice.amountMinor).toBe(invoice.plan === 'monthly' ? 2500 : 25000);
    expect(invoice.currency).toBe('EUR');
    if (i > 0) expect(invoice.periodStart).toEqual(invoices[i - 1]!.periodEnd);
  }
}

describe.each(databases)('invoices over a simulated year on $dialect', (database: TestDatabase) => {
  let store: TypeOrmStore;

  beforeAll(async () => {
    store = await createStore({ url: database.url, cipher: createSecretCipher({ keys: { k: randomBytes(32) }, currentKeyId: 'k' }) });
    await store.migrate();
  });

  afterAll(async () => {
    await store?.close();
  });

  const install = (billing: BillingSettings) =>
    store.install({
      workspace: `billing-${randomBytes(4).toString('hex')}`,
      app: 'closealert',
      config: { projectKey: 'company.com', apiToken: 'x.y.z' },
      secretFields: ['apiToken'],
      mappings: [...closeAlertConnector.defaultMappings],
      dataModel: closeAlertConnector.dataModel,
      billing,
    });

  it('bills monthly and yearly plans, stops at uninstall, applies a plan change from the next period, and never bills a period twice', async () => {
    const monthly = await install({ plan: 'monthly', poNumber: 'PO-M' });
    const monthlyLeaving = await install({ plan: 'monthly' });
    const yearly = await install({ plan: 'yearly', poNumber: 'PO-Y' });
    const yearlyLeaving = await install({ plan: 'yearly' });
    const switching = await install({ plan: 'monthly' });
    const start = new Date(Math.max(...[monthly, monthlyLeaving, yearly, yearlyLeaving, switching].map((i) => i.createdAt.getTime())));
    const halfway = new Date(start.getTime() + 190 * DAY);
    const switchDay = 100;
    const lastDay = 400;

    let issued = 0;
    for (let day = 0; day <= lastDay; day += STEP_DAYS) {
      const now = new Date(start.getTime() + day * DAY);
      if (day === 190) {
        await store.uninstall(monthlyLeaving.id, { purge: false, at: halfway });
        await store.uninstall(yearlyLeaving.id, { purge: false, at: halfway });
      }
      if (day === switchDay) await store.updateInstallation(switching.id, { billing: { plan: 'yearly', poNumber: 'PO-S' } });
      issued += (await produceInvoices({ store, now, connectors })).length;
      // The same clock again issues nothing: invoicing is idempotent (checked every few steps to keep the test quick).
      if (day % (4 * STEP_DAYS) === 0) expect(await produceInvoices({ store, now, connectors })).toEqual([]);
    }
    const end = new Date(start.getTime() + lastDay * DAY);
    const of = async (installation: Installation) => store.listInvoices({ installationId: installation.id });

    const monthlyInvoices = await of(monthly);
    expectChain(monthlyInvoices, monthly);
    expect(monthlyInvoices.every((i) => i.plan === 'monthly' && i.poNumber === 'PO-M')).toBe(true);
    // One invoice for each month begun while installed: the last one covers the end of the simulation.
    expect(monthlyInvoices.at(-1)!.periodStart.getTime()).toBeLessThanOrEqual(end.getTime());
    expect(monthlyInvoices.at(-1)!.periodEnd.getTime()).toBeGreaterThan(end.getTime());
    expect(monthlyInvoices.length).toBe(monthsBetween(monthly.createdAt, monthlyInvoices.at(-1)!.periodStart) + 1);
    expect(monthlyInvoices.length).toBeGreaterThanOrEqual(13);
    // Each invoice was issued at the first tick after its period began, not before.
    for (const invoice of monthlyInvoices) {
      expect(invoice.issuedAt.getTime()).toBeGreaterThanOrEqual(invoice.periodStart.getTime());
      expect(invoice.issuedAt.getTime() - invoice.periodStart.getTime()).toBeLessThan(STEP_DAYS * DAY);
    }

    const leavingInvoices = await of(monthlyLeaving);
    expectChain(leavingInvoices, monthlyLeaving);
    expect(leavingInvoices.at(-1)!.periodStart.getTime()).toBeLessThan(halfway.getTime());
    expect(leavingInvoices.at(-1)!.periodEnd.getTime()).toBeGreaterThan(halfway.getTime());
    expect(leavingInvoices).toHaveLength(7);

    const yearlyInvoices = await of(yearly);
    expectChain(yearlyInvoices, yearly);
    // One advance invoice for the first twelve months, the next one when the second year begins.
    expect(yearlyInvoices).toHaveLength(2);
    expect(yearlyInvoices.every((i) => i.plan === 'yearly' && i.poNumber === 'PO-Y')).toBe(true);

    const yearlyLeavingInvoices = await of(yearlyLeaving);
    expectChain(yearlyLeavingInvoices, yearlyLeaving);
    expect(yearlyLeavingInvoices).toHaveLength(1);

    const switchingInvoices = await of(switching);
    expectChain(switchingInvoices, switching);
    const switchedAt = start.getTime() + switchDay * DAY;
    const monthlyPart = switchingInvoices.filter((i) => i.plan === 'monthly');
    const yearlyPart = switchingInvoices.filter((i) => i.plan === 'yearly');
    expect(monthlyPart.every((i) => i.periodStart.getTime() <= switchedAt && !i.poNumber)).toBe(true);
    expect(monthlyPart).toHaveLength(4);
    expect(yearlyPart).toHaveLength(1);
    expect(yearlyPart[0]!.poNumber).toBe('PO-S');
    expect(yearlyPart[0]!.periodStart).toEqual(monthlyPart.at(-1)!.periodEnd);

    const all = [monthlyInvoices, leavingInvoices, yearlyInvoices, yearlyLeavingInvoices, switchingInvoices].flat();
    expect(issued).toBe(all.length);
    // Nothing is due any more for the uninstalled ones, however far the clock goes.
    const muchLater = new Date(start.getTime() + 1000 * DAY);
    const later = await produceInvoices({ store, now: muchLater, connectors });
    expect(later.some((i) => i.installationId === monthlyLeaving.id || i.installationId === yearlyLeaving.id)).toBe(false);
  });

  it('issues each due invoice once when several runners produce at the same moment', async () => {
    const installation = await install({ plan: 'monthly' });
    const now = new Date(installation.createdAt.getTime() + 95 * DAY);
    const results = await Promise.all([1, 2, 3].map(() => produceInvoices({ store, now, connectors })));
    const mine = results.flat().filter((i) => i.installationId === installation.id);
    const stored = await store.listInvoices({ installationId: installation.id });
    expect(stored.length).toBeGreaterThanOrEqual(4);
    expect(mine.map((i) => i.id).sort()).toEqual(stored.map((i) => i.id).sort());
    expectChain(stored, installation);
  });

  it('bills nothing for an app without pricing', async () => {
    const installation = await install({ plan: 'monthly' });
    const now = new Date(installation.createdAt.getTime() + 40 * DAY);
    await produceInvoices({ store, now, connectors: [{ id: 'closealert' }] });
    expect(await store.listInvoices({ installationId: installation.id })).toEqual([]);
  });
});
