import {
  addMonthsUtc,
  minorUnits,
  PLAN_MONTHS,
  silentLogger,
  type BillingAccount,
  type BillingPlan,
  type Invoice,
  type Logger,
  type NewInvoice,
  type Pricing,
  type BillingStore,
} from '@tributary/core';

/** One period to bill. */
export interface BillingPeriod {
  /** First instant of the period. */
  start: Date;
  /** First instant after it (exclusive). */
  end: Date;
  /** Months it covers: 1 for monthly, 12 for yearly. */
  months: number;
}

/** What {@link duePeriods} needs. */
export interface DuePeriodsInput {
  /** When billing started: the install time. Every period boundary is this plus whole months. */
  anchor: Date;
  /** The plan the next periods are billed under. */
  plan: BillingPlan;
  /** Months since the anchor already billed (the end of the last invoice). */
  billedMonths: number;
  /** The clock: a period is due once it has started (invoices are issued in advance). */
  now: Date;
  /** When the app was uninstalled: no period starting then or later is billed. */
  endedAt?: Date;
}

/** Whole months from `anchor` to `date`, for a date that is the anchor plus whole months (an invoice's end). */
export function monthsSince(anchor: Date, date: Date): number {
  return (date.getUTCFullYear() - anchor.getUTCFullYear()) * 12 + (date.getUTCMonth() - anchor.getUTCMonth());
}

/**
 * The periods due at `now` that are not billed yet: consecutive periods of the plan's length from
 * the end of the last one billed, each started at or before `now` and before the uninstall. Period
 * boundaries are always the anchor plus whole months (day clamped to the month's end: an app
 * installed on 31 January is billed from 28 or 29 February, then again from 31 March), so that
 * short months never make the billing day drift. Pure: the same input gives the same periods.
 */
export function duePeriods(input: DuePeriodsInput): BillingPeriod[] {
  const months = PLAN_MONTHS[input.plan];
  const anchor = input.anchor.getTime();
  const now = input.now.getTime();
  const ended = input.endedAt?.getTime() ?? Number.POSITIVE_INFINITY;
  const periods: BillingPeriod[] = [];
  for (let billed = Math.max(0, input.billedMonths); ; billed += months) {
    const start = addMonthsUtc(anchor, billed);
    if (start > now || start >= ended) break;
    periods.push({ start: new Date(start), end: new Date(addMonthsUtc(anchor, billed + months)), months });
  }
  return periods;
}

/** A connector as billing sees it: its id and, when it costs something, its prices. */
export interface BilledApp {
  id: string;
  pricing?: Pricing;
}

/** What {@link produceInvoices} needs. */
export interface ProduceInvoicesOptions {
  store: BillingStore;
  /** The runner's clock. */
  now: Date;
  /** The apps that may be installed, with their prices (a ConnectorDefinition fits); apps without pricing are free. */
  connectors: Iterable<BilledApp>;
  logger?: Logger;
}

/** The invoices due for one installation, from how far it is billed. */
export function invoicesDue(account: BillingAccount, pricing: Pricing, now: Date): NewInvoice[] {
  const plan = account.billing.plan;
  const periods = duePeriods({
    anchor: account.installedAt,
    plan,
    billedMonths: account.billedUntil ? monthsSince(account.installedAt, account.billedUntil) : 0,
    now,
    ...(account.status === 'uninstalled' && account.uninstalledAt ? { endedAt: account.uninstalledAt } : {}),
  });
  const price = pricing[plan];
  return periods.map((period) => ({
    installationId: account.installationId,
    plan,
    periodStart: period.start,
    periodEnd: period.end,
    amountMinor: minorUnits(price),
    currency: price.currency,
    ...(account.billing.poNumber ? { poNumber: account.billing.poNumber } : {}),
    issuedAt: now,
  }));
}

/**
 * Issues every invoice due at `now`: for each installation of a priced app, the periods of its plan
 * from the end of its last invoice (or its install time) that have started, and none starting at or
 * after its uninstall. Idempotent and safe to run from several runners at once: the store never
 * records two invoices for one period. A plan or PO change applies from the next period. Returns
 * the invoices this call added.
 */
export async function produceInvoices(options: ProduceInvoicesOptions): Promise<Invoice[]> {
  const logger = (options.logger ?? silentLogger()).child({ component: 'billing' });
  const pricing = new Map<string, Pricing>();
  for (const app of options.connectors) if (app.pricing) pricing.set(app.id, app.pricing);
  // One statement: how far each installation is billed. Neither configurations nor secrets are read,
  // nor the invoice history, which only grows.
  const due: NewInvoice[] = [];
  for (const account of await options.store.listBillingAccounts()) {
    const prices = pricing.get(account.app);
    if (!prices) continue;
    due.push(...invoicesDue(account, prices, options.now));
  }
  const recorded = await options.store.recordInvoices(due);
  for (const invoice of recorded) {
    logger.info(
      { workspace: invoice.workspace, app: invoice.app, plan: invoice.plan, periodStart: invoice.periodStart.toISOString() },
      'invoice issued',
    );
  }
  return recorded;
}
