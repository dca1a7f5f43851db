import { readFile } from 'node:fs/promises';
import { isAbsolute, join } from 'node:path';
import { z } from 'zod';
import { ConfigError, defineDestination, type DeliveryBatch } from '@tributary/core';
import { removeStaleTempFiles, writeFileAtomically } from './atomic-file.js';
import { checkFileDirectory } from './limits.js';

const configSchema = z.object({
  directory: z
    .string()
    .trim()
    .min(1)
    .refine((path) => isAbsolute(path), 'must be an absolute path')
    .describe('the directory the files are written to (created when missing)'),
  format: z.enum(['jsonl', 'csv']).default('jsonl').describe('jsonl (JSON Lines) or csv'),
});

type FileConfig = z.infer<typeof configSchema>;

/** A profile name as part of a file name. */
function slug(text: string): string {
  return (
    text
      .normalize('NFKD')
      .toLowerCase()
      .replace(/[^a-z0-9]+/g, '-')
      .replace(/^-+|-+$/g, '')
      .slice(0, 60) || 'profile'
  );
}

function csvCell(value: string): string {
  // A leading = + - @ would make a spreadsheet run it as a formula.
  const safe = /^[=+\-@]/.test(value) ? `'${value}` : value;
  return /[",\r\n]/.test(safe) ? `"${safe.replaceAll('"', '""')}"` : safe;
}

function changesFile(batch: DeliveryBatch, format: FileConfig['format']): string {
  const rows = batch.changes.map((c) => ({ email: c.email, change: c.change, profile: batch.profile, evaluated_at: batch.evaluatedAt, batch_id: batch.id }));
  if (format === 'jsonl') return rows.map((r) => JSON.stringify(r)).join('\n') + (rows.length > 0 ? '\n' : '');
  const header = 'email,change,profile,evaluated_at,batch_id';
  return [header, ...rows.map((r) => [r.email, r.change, r.profile, r.evaluated_at, r.batch_id].map(csvCell).join(','))].join('\r\n') + '\r\n';
}

function membersFile(members: readonly string[], format: FileConfig['format']): string {
  if (format === 'jsonl') return members.map((email) => JSON.stringify({ email })).join('\n') + (members.length > 0 ? '\n' : '');
  return ['email', ...members.map(csvCell)].join('\r\n') + '\r\n';
}

/** The members of a snapshot file written before, for a batch that carries no snapshot of its own. */
async function readMembers(path: string, format: FileConfig['format']): Promise<string[] | undefined> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch {
    return undefined;
  }
  const lines = text.split(/\r?\n/).filter(Boolean);
  if (format === 'jsonl') return lines.map((line) => String((JSON.parse(line) as { email: unknown }).email));
  return lines.slice(1).map((line) => (line.startsWith('"') ? line.slice(1, -1).replaceAll('""', '"') : line).replace(/^'(?=[=+\-@])/, ''));
}

/** Where a batch lands: its changes file and the profile's snapshot file. */
export function fileNamesOf(batch: Pick<DeliveryBatch, 'id' | 'profile' | 'evaluatedAt'>, format: FileConfig['format']): { changes: string; members: string } {
  const at = batch.evaluatedAt.replace(/[-:]/g, '').replace(/\.\d+/, '');
  return { changes: `${slug(batch.profile)}-changes-${at}-${batch.id}.${format}`, members: `${slug(batch.profile)}-members.${format}` };
}

/**
 * The file destination: each batch becomes a changes file, and the profile's members file is
 * replaced by the new full list, both written atomically. A batch written again (a retry) writes
 * the same names with the same content.
 */
export const fileDestination = defineDestination({
  id: 'file',
  version: '1.0.0',
  displayName: 'File drop',
  description: 'writes each batch of changes and a full member snapshot as JSON Lines or CSV into a directory, atomically',
  configSchema,
  secrets: [],
  kind: 'push',
  snapshot: true,
  async admit(config, { limits, addedBy }) {
    await checkFileDirectory(config.directory, limits, addedBy);
  },
  async deliver(batch, context) {
    const { format } = context.config;
    const names = fileNamesOf(batch, format);
    let directory: string;
    try {
      // Checked again on every batch, and written to the real path checked: a link placed since the
      // destination was added cannot lead the files out of the operator's roots.
      directory = await checkFileDirectory(context.config.directory, context.limits);
    } catch (error) {
      return { status: 'retry', error: (error as Error).message };
    }
    try {
      await removeStaleTempFiles(directory);
      await writeFileAtomically(directory, names.changes, changesFile(batch, format));
      // A batch without a snapshot (a person forgotten) takes them out of the last one written.
      const members = batch.members ?? (await readMembers(join(directory, names.members), format))?.filter((email) => !batch.changes.some((c) => c.change === 'left' && c.email === email));
      if (members) await writeFileAtomically(directory, names.members, membersFile(members, format));
      return { status: 'delivered', note: join(directory, names.changes) };
    } catch (error) {
      return { status: 'retry', error: `cannot write to ${directory}: ${(error as Error).message}` };
    }
  },
  async test(context) {
    const { directory: given } = context.config;
    const directory = await checkFileDirectory(given, context.limits);
    try {
      await writeFileAtomically(directory, '.tributary-write-test', 'ok\n');
    } catch (error) {
      throw new ConfigError('DESTINATION_TEST_FAILED', `Cannot write into ${directory}: ${(error as Error).message}.`, {
        hint: 'Create the directory, or give the user Tributary runs as the right to write there.',
      });
    }
    return { notes: [`${given} is writable; files appear there as profiles change.`] };
  },
});
