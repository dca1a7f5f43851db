import { z } from 'zod';

/**
 * An operator's name as Tributary records who administers a workspace: the login name or e-mail
 * address they act under. Printable, one line, so that it reads the same in a list and in a log.
 */
export const operatorNameSchema = z
  .string()
  .trim()
  .min(1, 'must not be empty')
  .max(200)
  .refine((name) => [...name].every((c) => c.charCodeAt(0) >= 0x20 && c.charCodeAt(0) !== 0x7f), 'must not contain control characters');

/** An administrator of a workspace: may install and remove apps in it, and add or remove administrators. */
export interface WorkspaceAdmin {
  user: string;
  addedAt: Date;
  /** Who added them; absent for the operator who claimed the workspace. */
  addedBy?: string;
}
