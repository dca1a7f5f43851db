import { billingSettingsSchema, minorUnits, parseUserInput, type BillingSettings, type Invoice, type Pricing } from '@tributary/core';

/** Billing settings from the `--plan` and `--po` options, or a ConfigError naming the bad one. */
export function billingSettingsOf(options: { plan: string; po?: string | undefined }): BillingSettings {
  return parseUserInput(billingSettingsSchema, { plan: options.plan, ...(options.po === undefined ? {} : { poNumber: options.po }) }, 'billing settings', { plan: '--plan', poNumber: '--po' });
}

/** An amount in minor units as people read it: `EUR 25.00`. */
export function formatMoney(amountMinor: number, currency: string): string {
  const sign = amountMinor < 0 ? '-' : '';
  const abs = Math.abs(amountMinor);
  return `${currency} ${sign}${Math.floor(abs / 100)}.${String(abs % 100).padStart(2, '0')}`;
}

/** One line about a plan: `yearly plan, EUR 250.00 per year in advance, PO 4711`. */
export function describeBilling(billing: BillingSettings, pricing: Pricing | undefined): string {
  const price = pricing?.[billing.plan];
  const cost = price
    ? `, ${formatMoney(minorUnits(price), price.currency)} ${billing.plan === 'monthly' ? 'per month' : 'per year in advance'}`
    : ' (free)';
  return `${billing.plan} plan${cost}${billing.poNumber ? `, PO ${billing.poNumber}` : ''}`;
}

/** An invoice as JSON for scripts. */
export function invoiceToJson(invoice: Invoice): Record<string, unknown> {
  return {
    ...invoice,
    periodStart: invoice.periodStart.toISOString(),
    periodEnd: invoice.periodEnd.toISOString(),
    issuedAt: invoice.issuedAt.toISOString(),
    amount: formatMoney(invoice.amountMinor, invoice.currency),
  };
}
