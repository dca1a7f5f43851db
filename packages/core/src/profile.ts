import { z } from 'zod';
import { identifierSchema } from './identifiers.js';

const positiveId = z.number().int().positive();

// PostgreSQL cannot store a NUL in text or jsonb (it fails the statement), and the other control
// characters garble terminals, CSV exports and logs; neither database may see them in a name.
const CONTROL_CHARACTERS = /\p{Cc}/u;
const CONTROL_MESSAGE = 'must not contain control characters (such as NUL, a tab or a line break)';

/** Free text a user names something with (1 to `max` characters, no control characters). */
export function nameTextSchema(max: number) {
  return z
    .string()
    .min(1, 'must not be empty')
    .max(max)
    .refine((text) => !CONTROL_CHARACTERS.test(text), CONTROL_MESSAGE);
}

/** A profile's name: letters of any script, digits, spaces, `_ . -`; unique per workspace. */
export const profileNameSchema = nameTextSchema(100).regex(
  /^[\p{L}\p{N}][\p{L}\p{M}\p{N} _.-]*$/u,
  'must start with a letter or digit and hold only letters (of any script), digits, spaces, _ . -',
);
const isoDate = z.iso.datetime({ offset: true }).or(z.iso.date());

/**
 * The id of a form, mailing or group as its source gives it: a number (CloseAlert's 34) or a
 * string (Typeform's "lT4Z3j"). An id of the wrong kind for an app's column matches nothing there.
 */
const sourceId = positiveId.or(nameTextSchema(200));
/** An id as a profile condition names it: a number or a string, whichever the source uses. */
export type SourceId = number | string;

/** Comparison of an answer's score. */
export const scoreConditionSchema = z.discriminatedUnion('op', [
  z.object({ type: z.literal('score'), op: z.enum(['=', '!=', '<', '<=', '>', '>=']), value: z.number() }),
  z.object({ type: z.literal('score'), op: z.literal('between'), min: z.number(), max: z.number() }).refine(
    (c) => c.min <= c.max,
    { message: 'min must not be greater than max', path: ['min'] },
  ),
  z.object({ type: z.literal('score'), op: z.literal('in'), values: z.array(z.number()).min(1).max(100) }),
]);

/** Conditions a profile combines. Leaf conditions test a response or one of its answers. */
export type ProfileCondition =
  | { type: 'responded'; withinDays: number }
  | { type: 'responded'; from: string; to: string }
  | { type: 'form'; id?: SourceId; name?: string }
  | { type: 'mailing'; id?: SourceId; name?: string }
  | { type: 'group'; id?: SourceId; name?: string }
  /**
   * An answer to a question: `questionIndex` (CloseAlert's `3.1`) or `key` (any source's question
   * key, such as a Typeform field id) name it on its form; `text` by its wording.
   */
  | { type: 'question'; formId?: SourceId; questionIndex?: string; key?: string; text?: string }
  | z.infer<typeof scoreConditionSchema>
  | { type: 'comment'; contains: string }
  | { type: 'backfilled'; value: boolean }
  | { all: ProfileCondition[] }
  | { any: ProfileCondition[] }
  | { none: ProfileCondition[] };

const byIdOrName = <T extends string>(type: T) =>
  z
    .object({ type: z.literal(type), id: sourceId.optional(), name: nameTextSchema(200).optional() })
    .refine((c) => c.id !== undefined || c.name !== undefined, { message: `a ${type} condition needs an id or a name` });

/** Schema of a profile condition, recursive through all / any / none. */
export const profileConditionSchema: z.ZodType<ProfileCondition> = z.lazy(() =>
  z.union([
    z.object({ type: z.literal('responded'), withinDays: z.number().int().positive().max(3650) }),
    z
      .object({ type: z.literal('responded'), from: isoDate, to: isoDate })
      .refine((c) => Date.parse(c.from) <= Date.parse(c.to), { message: 'from must not be after to', path: ['from'] }),
    byIdOrName('form'),
    byIdOrName('mailing'),
    byIdOrName('group'),
    z
      .object({
        type: z.literal('question'),
        formId: sourceId.optional(),
        questionIndex: z.string().regex(/^\d+(\.\d+)*$/, 'must look like 1 or 3.1').optional(),
        key: nameTextSchema(200).optional(),
        text: nameTextSchema(500).optional(),
      })
      .refine((c) => c.questionIndex !== undefined || c.key !== undefined || c.text !== undefined, {
        message: 'a question condition needs a questionIndex, a key or a text',
      }),
    scoreConditionSchema,
    z.object({ type: z.literal('comment'), contains: nameTextSchema(500) }),
    z.object({ type: z.literal('backfilled'), value: z.boolean() }),
    z.object({ all: z.array(profileConditionSchema).min(1) }),
    z.object({ any: z.array(profileConditionSchema).min(1) }),
    z.object({ none: z.array(profileConditionSchema).min(1) }),
  ]),
) as z.ZodType<ProfileCondition>;

/** Deepest nesting of all / any / none a definition may use; keeps the compiled SQL bounded. */
export const MAX_PROFILE_DEPTH = 8;
/** Most leaf conditions a definition may hold. */
export const MAX_PROFILE_CONDITIONS = 100;

function measure(condition: ProfileCondition, depth = 1): { depth: number; leaves: number } {
  const children = 'all' in condition ? condition.all : 'any' in condition ? condition.any : 'none' in condition ? condition.none : undefined;
  if (!children) return { depth, leaves: 1 };
  return children.reduce(
    (acc, child) => {
      const m = measure(child, depth + 1);
      return { depth: Math.max(acc.depth, m.depth), leaves: acc.leaves + m.leaves };
    },
    { depth, leaves: 0 },
  );
}

/** A profile (segment): which customers match, over which of their responses. */
export const profileDefinitionSchema = z.object({
  /** Name, unique per workspace. */
  name: profileNameSchema,
  /** What the profile is for; line breaks and tabs are fine, other control characters are not. */
  description: z
    .string()
    .max(1000)
    .refine((text) => !CONTROL_CHARACTERS.test(text.replace(/[\t\n\r]/g, ' ')), 'must not contain control characters such as NUL')
    .default(''),
  /**
   * The one app (installation of a feedback connector) the profile reads, when it is pinned to
   * one; without it the profile spans every feedback app of its workspace.
   */
  app: identifierSchema.optional(),
  /** Whether conditions apply to any response of a customer or only to each customer's latest (across the apps read). */
  over: z.enum(['any-response', 'latest-response']).default('any-response'),
  /** The condition tree. */
  match: profileConditionSchema.superRefine((match, ctx) => {
    const { depth, leaves } = measure(match);
    if (depth > MAX_PROFILE_DEPTH) ctx.addIssue({ code: 'custom', message: `nests all / any / none ${depth} deep; at most ${MAX_PROFILE_DEPTH} levels are allowed` });
    if (leaves > MAX_PROFILE_CONDITIONS) ctx.addIssue({ code: 'custom', message: `holds ${leaves} conditions; at most ${MAX_PROFILE_CONDITIONS} are allowed` });
  }),
});
/** A profile definition. */
export type ProfileDefinition = z.infer<typeof profileDefinitionSchema>;
/** A profile definition as written by hand. */
export type ProfileDefinitionInput = z.input<typeof profileDefinitionSchema>;

/** Conditions that test one answer of a response; the others test the response itself. */
export const ANSWER_CONDITION_TYPES = ['question', 'score', 'comment'] as const;

/** A profile as stored for a workspace. */
export interface StoredProfile {
  /** Store-assigned id. */
  id: string;
  workspace: string;
  name: string;
  definition: ProfileDefinition;
  createdAt: Date;
  updatedAt: Date;
  /** The newest recorded evaluation, when there is one. */
  lastEvaluation?: { evaluatedAt: Date; memberCount: number };
}

/** A customer's most recent matching response in one app. */
export interface ProfileMatch {
  /** The app (connector id) of the response. */
  app: string;
  installationId: string;
  responseId: string;
  /** The response's form: a number or a string, as the app's source gives it. */
  formId: SourceId | null;
  /** Score of that response's answer to the profile's (first) answer condition, when it has one. */
  score: number | null;
  respondedAt: Date;
}

/** One customer of a profile: who, and the most recent response that matched. */
export interface ProfileMember {
  /** The normalized (trimmed, lower-cased) e-mail: the customer's identity. */
  email: string;
  /** The id Tributary gave that e-mail in the app's contacts table. */
  contactId: string | null;
  /** The id in the user's own customers table, when the installation links one and it holds the e-mail. */
  customerId: string | null;
  /** The app of the most recent matching response (a customer who matched in several apps is one member). */
  app: string;
  installationId: string;
  /** The most recent matching response. */
  responseId: string;
  formId: SourceId | null;
  /** Score of that response's answer to the profile's (first) answer condition, when it has one. */
  score: number | null;
  respondedAt: Date;
  /** The most recent matching response in each app the customer matched in, newest first (the first is the member's own). */
  matches: ProfileMatch[];
}

/** What {@link Store.evaluateProfile} is told. */
export interface EvaluateProfileOptions {
  /** The instant the profile is evaluated at ("within the past N days" counts back from it); default the real clock. */
  now?: Date;
  /** Whether to record the evaluation and its membership changes; default true. */
  record?: boolean;
  /**
   * Read only this app of the workspace (a connector id). A profile pinned to an app reads that one;
   * naming another is refused. Recorded membership stays per workspace and profile.
   */
  app?: string;
}

/** The result of evaluating a profile. */
export interface ProfileEvaluation {
  profile: StoredProfile;
  /** The (first) installation whose data was read. */
  installationId: string;
  /** Every installation whose data was read, one per app, in the order of `apps`. */
  installationIds: string[];
  /** The apps read, by connector id (sorted). */
  apps: string[];
  evaluatedAt: Date;
  /** Id of the recorded evaluation; undefined when it was not recorded. */
  evaluationId?: string;
  /** Every customer of the profile, by e-mail. */
  members: ProfileMember[];
  /** E-mails that are members now and were not at the previous recorded evaluation (all of them the first time). */
  entered: string[];
  /** E-mails that were members at the previous recorded evaluation and are not now. */
  left: string[];
  /** When the previous recorded evaluation ran, if there was one. */
  previousEvaluatedAt?: Date;
}

/** What {@link ProfileStore.streamProfile} is told, besides what an evaluation is. */
export interface StreamProfileOptions extends EvaluateProfileOptions {
  /** Members per batch handed on (default 1,000). */
  batchSize?: number;
  /**
   * Whether to say who entered and who left (default true). That keeps each member's e-mail until
   * the end, to compare with the recorded members; an export that only writes the members leaves it off.
   * A recorded evaluation always compares.
   */
  changes?: boolean;
}

/**
 * A streamed evaluation once every member has been read: an evaluation without its members, who
 * went to the reader as they were read. A stream its reader left early records nothing.
 */
export interface StreamedProfileEvaluation extends Omit<ProfileEvaluation, 'members'> {
  memberCount: number;
}

/** Which members {@link ProfileStore.profileMembers} reads: a page by e-mail, optionally filtered. */
export interface ProfileMembersOptions {
  now?: Date;
  /** Only e-mails after this one: the `after` of the previous page. */
  after?: string;
  /** Only e-mails that contain this text (case-insensitive, literal). */
  contains?: string;
  /** At most this many members (1 to 1,000). */
  limit: number;
}

/** A page of a profile's members (evaluated, not recorded). */
export interface ProfileMemberPage {
  /** By e-mail. */
  members: ProfileMember[];
  /** The e-mail to read the next page after; null on the last page. */
  after: string | null;
  /** How many members match `contains`, over all pages. */
  total: number;
}

/** A form the workspace's feedback came in on, with its questions: what a profile can name. */
export interface FeedbackForm {
  /** The app (connector id) the form belongs to. */
  app: string;
  id: SourceId;
  name: string | null;
  formType: string | null;
  /** By question index (or key); the text is the question's latest. */
  questions: { index: string; text: string | null; type: string | null }[];
}

/** A recorded evaluation with the membership changes it found. */
export interface ProfileHistoryEntry {
  evaluationId: string;
  evaluatedAt: Date;
  memberCount: number;
  entered: string[];
  left: string[];
}

const describeRef = (what: string, c: { id?: SourceId; name?: string }) =>
  c.id !== undefined ? `${what} ${typeof c.id === 'string' ? JSON.stringify(c.id) : c.id}` : `${what} "${c.name}"`;

/** A condition as one readable line: `responded within 10 days AND form 34 AND (question 1 AND score < 3)`. */
export function describeProfileCondition(condition: ProfileCondition): string {
  if ('all' in condition) return condition.all.map((c) => wrap(c)).join(' AND ');
  if ('any' in condition) return condition.any.map((c) => wrap(c)).join(' OR ');
  if ('none' in condition) return `NOT (${condition.none.map((c) => describeProfileCondition(c)).join(' OR ')})`;
  switch (condition.type) {
    case 'responded':
      return 'withinDays' in condition ? `responded within the past ${condition.withinDays} days` : `responded between ${condition.from} and ${condition.to}`;
    case 'form':
    case 'mailing':
    case 'group':
      return describeRef(condition.type, condition);
    case 'question': {
      const parts = [
        condition.questionIndex !== undefined
          ? `question ${condition.questionIndex}`
          : condition.key !== undefined
            ? `question ${JSON.stringify(condition.key)}`
            : 'question',
      ];
      if (condition.formId !== undefined) parts.push(`of form ${condition.formId}`);
      if (condition.text !== undefined) parts.push(`"${condition.text}"`);
      return parts.join(' ');
    }
    case 'score':
      if (condition.op === 'between') return `score between ${condition.min} and ${condition.max}`;
      if (condition.op === 'in') return `score in (${condition.values.join(', ')})`;
      return `score ${condition.op} ${condition.value}`;
    case 'comment':
      return `comment contains "${condition.contains}"`;
    case 'backfilled':
      return condition.value ? 'backfilled' : 'not backfilled';
  }
}

function wrap(condition: ProfileCondition): string {
  const text = describeProfileCondition(condition);
  return 'all' in condition || 'any' in condition ? `(${text})` : text;
}

/** The members an unsaved definition would have: what a profile builder shows as conditions change. */
export interface ProfilePreview {
  definition: ProfileDefinition;
  evaluatedAt: Date;
  /** The apps whose feedback was read. */
  apps: string[];
  /** Every member, or the first `limit` by e-mail when a limit was asked for. */
  members: ProfileMember[];
  /** How many members there are in all. */
  count: number;
}
