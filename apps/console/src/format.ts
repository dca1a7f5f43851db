// Money and plans as people read them, in their own locale.

/** `{ amount: 25, currency: 'EUR' }` → "€25.00" (amounts of a connector's pricing are in major units). */
export function formatMoney(amount: number, currency: string): string {
  try {
    return new Intl.NumberFormat(undefined, { style: 'currency', currency }).format(amount);
  } catch {
    return `${amount.toFixed(2)} ${currency}`;
  }
}

interface Price {
  amount: number;
  currency: string;
}

function isPrice(value: unknown): value is Price {
  const v = value as Partial<Price> | null;
  return typeof v === 'object' && v !== null && typeof v.amount === 'number' && typeof v.currency === 'string';
}

/** A connector's pricing (`{ monthly: {amount, currency}, yearly: … }`) as a line per plan; free when it has none. */
export function pricingLines(pricing: unknown): string[] {
  if (typeof pricing !== 'object' || pricing === null) return ['Free: no invoices.'];
  const lines: string[] = [];
  for (const [plan, price] of Object.entries(pricing as Record<string, unknown>)) {
    if (!isPrice(price)) continue;
    const per = plan === 'monthly' ? 'a month' : plan === 'yearly' ? 'a year' : plan;
    lines.push(`${formatMoney(price.amount, price.currency)} ${per}`);
  }
  return lines.length > 0 ? lines : ['Free: no invoices.'];
}

/** An invoice amount in minor units (cents) → "€25.00". */
export function formatMinor(amountMinor: number, currency: string): string {
  return formatMoney(amountMinor / 100, currency);
}
