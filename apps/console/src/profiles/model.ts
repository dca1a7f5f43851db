import type { Schemas } from '../api/client';

// The builder edits a draft: every field is the text the user typed, so that a half-typed number
// stays on screen. The draft becomes the API's definition only when every field reads; until then
// the builder says which field to fix and asks the server nothing.

export type Condition = Schemas['ProfileCondition'];
export type Definition = Schemas['ProfileDefinition'];
export type SourceId = number | string;

export type GroupMode = 'all' | 'any' | 'none';
export type ScoreOp = '=' | '!=' | '<' | '<=' | '>' | '>=' | 'between' | 'in';
export const SCORE_OPS: { op: ScoreOp; label: string }[] = [
  { op: '=', label: 'is' },
  { op: '!=', label: 'is not' },
  { op: '<', label: 'is below' },
  { op: '<=', label: 'is at most' },
  { op: '>', label: 'is above' },
  { op: '>=', label: 'is at least' },
  { op: 'between', label: 'is between' },
  { op: 'in', label: 'is one of' },
];

export type LeafDraft =
  | { type: 'responded'; mode: 'within' | 'between'; days: string; from: string; to: string }
  | { type: 'form' | 'mailing' | 'group'; by: 'id' | 'name'; value: string }
  | { type: 'question'; formId: string; by: 'index' | 'key' | 'text'; value: string }
  | { type: 'score'; op: ScoreOp; value: string; min: string; max: string; values: string }
  | { type: 'comment'; contains: string }
  | { type: 'backfilled'; value: boolean };

export type LeafType = LeafDraft['type'];

export interface LeafNode {
  kind: 'leaf';
  id: string;
  draft: LeafDraft;
}
export interface GroupNode {
  kind: 'group';
  id: string;
  mode: GroupMode;
  children: DraftNode[];
}
export type DraftNode = LeafNode | GroupNode;

export interface ProfileDraft {
  name: string;
  description: string;
  over: 'any-response' | 'latest-response';
  /** '' for every feedback app of the workspace. */
  app: string;
  root: GroupNode;
}

let counter = 0;
/** Ids only key React's lists and tie a problem to its field; they never reach the server. */
export function nextId(): string {
  counter += 1;
  return `c${counter}`;
}

export const LEAF_LABELS: Record<LeafType, string> = {
  responded: 'When responded',
  form: 'Form',
  mailing: 'Mailing',
  group: 'Group',
  question: 'Question',
  score: 'Score',
  comment: 'Comment contains',
  backfilled: 'Backfilled',
};

export function newLeaf(type: LeafType): LeafNode {
  const draft: LeafDraft = (() => {
    switch (type) {
      case 'responded':
        return { type, mode: 'within' as const, days: '10', from: '', to: '' };
      case 'form':
      case 'mailing':
      case 'group':
        return { type, by: 'id' as const, value: '' };
      case 'question':
        return { type, formId: '', by: 'index' as const, value: '' };
      case 'score':
        return { type, op: '<' as const, value: '', min: '', max: '', values: '' };
      case 'comment':
        return { type, contains: '' };
      case 'backfilled':
        return { type, value: false };
    }
  })();
  return { kind: 'leaf', id: nextId(), draft };
}

export function newGroup(mode: GroupMode, children: DraftNode[] = []): GroupNode {
  return { kind: 'group', id: nextId(), mode, children };
}

export function emptyDraft(): ProfileDraft {
  return { name: '', description: '', over: 'any-response', app: '', root: newGroup('all', [newLeaf('responded')]) };
}

/** A problem with one field of the draft, by the node's id. */
export interface Problem {
  id: string;
  message: string;
}

/** Ids as the sources give them: CloseAlert's are numbers, Typeform's are text. */
export function parseSourceId(text: string): SourceId {
  const trimmed = text.trim();
  return /^[1-9]\d{0,14}$/.test(trimmed) ? Number(trimmed) : trimmed;
}

function parseNumber(text: string): number | undefined {
  const trimmed = text.trim().replace(',', '.');
  if (trimmed === '') return undefined;
  const value = Number(trimmed);
  return Number.isFinite(value) ? value : undefined;
}

const ISO_DATE = /^\d{4}-\d{2}-\d{2}$/;

function leafCondition(node: LeafNode, problems: Problem[]): Condition | undefined {
  const d = node.draft;
  const fail = (message: string) => {
    problems.push({ id: node.id, message });
    return undefined;
  };
  switch (d.type) {
    case 'responded': {
      if (d.mode === 'within') {
        const days = parseNumber(d.days);
        if (days === undefined || !Number.isInteger(days) || days < 1 || days > 3650)
          return fail('Enter a whole number of days from 1 to 3650.');
        return { type: 'responded', withinDays: days };
      }
      if (!ISO_DATE.test(d.from) || !ISO_DATE.test(d.to)) return fail('Pick both dates.');
      if (d.from > d.to) return fail('The first date must not be after the second.');
      return { type: 'responded', from: d.from, to: d.to };
    }
    case 'form':
    case 'mailing':
    case 'group': {
      if (d.value.trim() === '') return fail(`Pick or type the ${d.type}'s ${d.by}.`);
      return d.by === 'id' ? { type: d.type, id: parseSourceId(d.value) } : { type: d.type, name: d.value.trim() };
    }
    case 'question': {
      const value = d.value.trim();
      if (value === '') return fail('Pick the question, or type its number, key or wording.');
      if (d.by === 'index' && !/^\d+(\.\d+)*$/.test(value)) return fail('A question number looks like 1 or 3.1.');
      const formId = d.formId.trim() === '' ? {} : { formId: parseSourceId(d.formId) };
      if (d.by === 'index') return { type: 'question', ...formId, questionIndex: value };
      if (d.by === 'key') return { type: 'question', ...formId, key: value };
      return { type: 'question', ...formId, text: value };
    }
    case 'score': {
      if (d.op === 'between') {
        const min = parseNumber(d.min);
        const max = parseNumber(d.max);
        if (min === undefined || max === undefined) return fail('Enter both scores of the range.');
        if (min > max) return fail('The lower score must not be above the higher one.');
        return { type: 'score', op: 'between', min, max };
      }
      if (d.op === 'in') {
        const parts = d.values.split(/[\s,;]+/).filter(Boolean);
        const values = parts.map(parseNumber);
        if (values.length === 0 || values.some((v) => v === undefined)) return fail('Enter the scores separated by commas, such as 1, 2.');
        if (values.length > 100) return fail('At most 100 scores.');
        return { type: 'score', op: 'in', values: values as number[] };
      }
      const value = parseNumber(d.value);
      if (value === undefined) return fail('Enter a score (a number).');
      return { type: 'score', op: d.op, value };
    }
    case 'comment':
      if (d.contains.trim() === '') return fail('Type the words the comment must contain.');
      return { type: 'comment', contains: d.contains };
    case 'backfilled':
      return { type: 'backfilled', value: d.value };
  }
}

function nodeCondition(node: DraftNode, problems: Problem[]): Condition | undefined {
  if (node.kind === 'leaf') return leafCondition(node, problems);
  if (node.children.length === 0) {
    problems.push({ id: node.id, message: 'Add a condition to this group, or remove the group.' });
    return undefined;
  }
  const children = node.children.map((c) => nodeCondition(c, problems));
  if (children.some((c) => c === undefined)) return undefined;
  const list = children as Condition[];
  if (node.mode === 'all') return { all: list };
  if (node.mode === 'any') return { any: list };
  return { none: list };
}

/** The match of a draft, or the problems that stop it (each tied to the field's node). */
export function draftMatch(root: GroupNode): { match?: Condition; problems: Problem[] } {
  const problems: Problem[] = [];
  // A lone condition in an "all" group is sent as itself: the same meaning, and a plainer definition.
  const match =
    root.mode === 'all' && root.children.length === 1 ? nodeCondition(root.children[0]!, problems) : nodeCondition(root, problems);
  return problems.length > 0 || match === undefined ? { problems } : { match, problems };
}

/** The body the preview and PUT routes take (the name travels in the path or in POST's body). */
export function draftDefinition(draft: ProfileDraft): { definition?: Definition; problems: Problem[] } {
  const { match, problems } = draftMatch(draft.root);
  if (!match) return { problems };
  return {
    definition: {
      description: draft.description,
      over: draft.over,
      match,
      ...(draft.app ? { app: draft.app } : {}),
    },
    problems,
  };
}

const text = (value: SourceId | undefined): string => (value === undefined ? '' : String(value));

function leafDraft(c: Exclude<Condition, { all: unknown } | { any: unknown } | { none: unknown }>): LeafDraft {
  switch (c.type) {
    case 'responded':
      return 'withinDays' in c
        ? { type: 'responded', mode: 'within', days: String(c.withinDays), from: '', to: '' }
        : { type: 'responded', mode: 'between', days: '10', from: c.from.slice(0, 10), to: c.to.slice(0, 10) };
    case 'form':
    case 'mailing':
    case 'group':
      return c.id !== undefined ? { type: c.type, by: 'id', value: text(c.id) } : { type: c.type, by: 'name', value: c.name ?? '' };
    case 'question':
      if (c.questionIndex !== undefined) return { type: 'question', formId: text(c.formId), by: 'index', value: c.questionIndex };
      if (c.key !== undefined) return { type: 'question', formId: text(c.formId), by: 'key', value: c.key };
      return { type: 'question', formId: text(c.formId), by: 'text', value: c.text ?? '' };
    case 'score': {
      const base = { type: 'score' as const, value: '', min: '', max: '', values: '' };
      if (c.op === 'between') return { ...base, op: 'between', min: String(c.min), max: String(c.max) };
      if (c.op === 'in') return { ...base, op: 'in', values: c.values.join(', ') };
      return { ...base, op: c.op, value: String(c.value) };
    }
    case 'comment':
      return { type: 'comment', contains: c.contains };
    case 'backfilled':
      return { type: 'backfilled', value: c.value };
  }
}

function draftNode(c: Condition): DraftNode {
  if ('all' in c) return newGroup('all', c.all.map(draftNode));
  if ('any' in c) return newGroup('any', c.any.map(draftNode));
  if ('none' in c) return newGroup('none', c.none.map(draftNode));
  return { kind: 'leaf', id: nextId(), draft: leafDraft(c) };
}

/** A saved profile as a draft to edit; its top level is always a group the user can add to. */
export function profileDraft(profile: { name: string; description: string; over: string; app: string | null; match: unknown }): ProfileDraft {
  const node = draftNode(profile.match as Condition);
  return {
    name: profile.name,
    description: profile.description,
    over: profile.over === 'latest-response' ? 'latest-response' : 'any-response',
    app: profile.app ?? '',
    root: node.kind === 'group' ? node : newGroup('all', [node]),
  };
}

// ---- Editing the tree without mutating it (React compares by identity) ----

export function updateNode(root: GroupNode, id: string, change: (node: DraftNode) => DraftNode | null): GroupNode {
  const walk = (node: DraftNode): DraftNode | null => {
    if (node.id === id) return change(node);
    if (node.kind === 'leaf') return node;
    const children = node.children.map(walk).filter((c): c is DraftNode => c !== null);
    return { ...node, children };
  };
  return (walk(root) as GroupNode | null) ?? root;
}

export function removeNode(root: GroupNode, id: string): GroupNode {
  return id === root.id ? root : updateNode(root, id, () => null);
}

export function addChild(root: GroupNode, groupId: string, child: DraftNode): GroupNode {
  return updateNode(root, groupId, (node) => (node.kind === 'group' ? { ...node, children: [...node.children, child] } : node));
}

/** How deep the tree nests groups (the API allows 8 levels). */
export function depthOf(node: DraftNode): number {
  return node.kind === 'leaf' ? 0 : 1 + Math.max(0, ...node.children.map(depthOf));
}
