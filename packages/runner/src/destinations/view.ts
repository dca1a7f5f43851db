import { z } from 'zod';
import { defineDestination } from '@tributary/core';

/**
 * The database-view destination: activating a profile creates a read-only view of its members
 * (e-mail, customer id, since when) in Tributary's schema, which a mail platform can read as a
 * suppression list. Nothing is delivered: the view follows every recorded evaluation by itself.
 */
export const viewDestination = defineDestination({
  id: 'view',
  version: '1.0.0',
  displayName: 'Database view',
  description: "a read-only view per activated profile in Tributary's schema, usable as a suppression list",
  configSchema: z.object({
    prefix: z
      .string()
      .regex(/^[a-z][a-z0-9_]{0,19}$/, 'must be 1-20 lower-case letters, digits or "_", starting with a letter')
      .default('suppress_')
      .describe('start of each view name; the profile name follows'),
  }),
  secrets: [],
  kind: 'view',
});
