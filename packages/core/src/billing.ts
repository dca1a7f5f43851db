import { z } from 'zod';

/** How an installed app is billed: an invoice each month, or one advance invoice per year. */
export const BILLING_PLANS = ['monthly', 'yearly'] as const;
/** A billing plan. */
export type BillingPlan = (typeof BILLING_PLANS)[number];

/** Months one invoice of a plan covers. */
export const PLAN_MONTHS: Readonly<Record<BillingPlan, number>> = { monthly: 1, yearly: 12 };

/** A purchase-order number as printed on invoices: free text, but one short line. */
export const poNumberSchema = z
  .string()
  .trim()
  .min(1)
  .max(100)
  .regex(/^[^\p{Cc}]+$/u, 'must be one line of printable characters');

/** The billing settings of an installation, chosen at install and changeable later. */
export const billingSettingsSchema = z.object({
  plan: z.enum(BILLING_PLANS),
  /** Purchase-order number printed on the invoices, when the customer needs one. */
  poNumber: poNumberSchema.optional(),
});
/** The billing settings of an installation. */
export type BillingSettings = z.infer<typeof billingSettingsSchema>;

/** A price of one billing period. */
export const priceSchema = z.object({
  /** In the currency's major unit with at most two decimals: 25 is 25.00. */
  amount: z
    .number()
    .finite()
    .min(0)
    .refine((amount) => Math.abs(Math.round(amount * 100) - amount * 100) < 1e-6, { message: 'must have at most two decimals' }),
  /** ISO 4217 code, e.g. EUR. */
  currency: z.string().regex(/^[A-Z]{3}$/, 'must be an ISO 4217 code such as EUR'),
});
/** A price of one billing period. */
export type Price = z.infer<typeof priceSchema>;

/** What an app costs per plan, declared in its manifest (the connector). */
export const pricingSchema = z.object({ monthly: priceSchema, yearly: priceSchema });
/** What an app costs per plan. */
export type Pricing = z.infer<typeof pricingSchema>;

/** A price in minor units (cents), the only form invoices store, so that no sum is ever rounded. */
export function minorUnits(price: Price): number {
  return Math.round(price.amount * 100);
}

/** An invoice for one billing period of one installation. */
export interface Invoice {
  /** Store-assigned id. */
  id: string;
  installationId: string;
  workspace: string;
  app: string;
  plan: BillingPlan;
  /** First instant of the period billed. Unique per installation: a period is never billed twice. */
  periodStart: Date;
  /** First instant after the period (exclusive). */
  periodEnd: Date;
  /** Amount in minor units (cents). */
  amountMinor: number;
  currency: string;
  /** The PO number the installation had when the invoice was issued. */
  poNumber?: string;
  /** When the invoice was produced (the runner's clock). */
  issuedAt: Date;
}

/** An invoice to record. */
export type NewInvoice = Omit<Invoice, 'id' | 'workspace' | 'app'>;

/**
 * An installation as billing sees it: what it is billed under and how far it is billed, without
 * its configuration (and so without its secrets).
 */
export interface BillingAccount {
  installationId: string;
  workspace: string;
  app: string;
  status: 'active' | 'uninstalled';
  /** The install time: every billing period starts at it plus whole months. */
  installedAt: Date;
  uninstalledAt?: Date;
  billing: BillingSettings;
  /** The end of its latest invoice; none when it was never billed. */
  billedUntil?: Date;
}
