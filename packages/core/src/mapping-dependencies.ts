import { ANSWER_CONDITION_TYPES, type ProfileCondition, type StoredProfile } from './profile.js';
import { ConfigError } from './errors.js';
import { findTable, type DataModel } from './data-model.js';
import { type ConnectorDefinition } from './connector.js';
import { type Mapping } from './mapping.js';

// Some columns are read by more than the app's own tables: profiles find customers by the normalized
// e-mail, join answers to responses by the response key and compare scores. A mapping edit that stops
// feeding such a column from its usual field leaves those columns empty or wrong for every remapped
// and new response, and the profiles that read it silently return nobody. Such an edit needs --force.

/** A column that profiles or the customer link read. */
export interface MappingDependency {
  table: string;
  column: string;
  /** What the column is, for the operator. */
  role: string;
  /** Whether a profile with this condition tree reads the column. */
  readBy: (match: ProfileCondition) => boolean;
}

function leafTypes(condition: ProfileCondition, into = new Set<string>()): Set<string> {
  if ('all' in condition) condition.all.forEach((c) => leafTypes(c, into));
  else if ('any' in condition) condition.any.forEach((c) => leafTypes(c, into));
  else if ('none' in condition) condition.none.forEach((c) => leafTypes(c, into));
  else into.add(condition.type);
  return into;
}

const everyProfile = () => true;
const hasAnswerCondition = (match: ProfileCondition) => [...leafTypes(match)].some((t) => (ANSWER_CONDITION_TYPES as readonly string[]).includes(t));
const hasScoreCondition = (match: ProfileCondition) => leafTypes(match).has('score');

/** The columns of an app's data model that profiles and the customer link depend on. */
export function mappingDependencies(model: DataModel): MappingDependency[] {
  const dependencies: MappingDependency[] = [];
  const primary = findTable(model, model.primaryTable);
  for (const key of primary?.key ?? []) {
    dependencies.push({ table: model.primaryTable, column: key, role: 'the response key', readBy: everyProfile });
  }
  if (model.customerEmailColumn) {
    dependencies.push({
      table: model.primaryTable,
      column: model.customerEmailColumn,
      role: 'the normalized e-mail that links each response to its customer',
      readBy: everyProfile,
    });
  }
  // The answers' score and link to their response, as the connector's feedback view names them.
  const answers = model.feedback?.answers;
  if (answers?.score !== undefined) {
    dependencies.push({ table: answers.table, column: answers.score, role: 'the score of an answer', readBy: hasScoreCondition });
  }
  if (answers !== undefined && answers.table !== model.primaryTable) {
    dependencies.push({ table: answers.table, column: answers.response, role: 'the link from an answer to its response', readBy: hasAnswerCondition });
  }
  return dependencies;
}

/** What feeds a column: its enabled mappings' source and transform, in a comparable form. */
function feedOf(mappings: readonly Mapping[], table: string, column: string): string {
  return mappings
    .filter((m) => m.enabled && m.target.table === table && m.target.column === column)
    .map((m) => `${m.source}|${m.transform}`)
    .sort()
    .join(',');
}

/**
 * The dependencies an edit breaks: columns no longer fed as before, unless they end up fed as the
 * connector's defaults feed them (a reset or re-enabling the default is always safe).
 */
export function brokenDependencies(before: readonly Mapping[], after: readonly Mapping[], model: DataModel, connector: ConnectorDefinition): MappingDependency[] {
  return mappingDependencies(model).filter((d) => {
    const next = feedOf(after, d.table, d.column);
    return next !== feedOf(before, d.table, d.column) && next !== feedOf(connector.defaultMappings as Mapping[], d.table, d.column);
  });
}

/** The profiles that stop working when these dependencies break, by name. */
export function profilesReading(broken: readonly MappingDependency[], profiles: readonly StoredProfile[], app?: string): string[] {
  // A profile pinned to another app never reads this one's columns.
  return profiles
    .filter((p) => app === undefined || p.definition.app === undefined || p.definition.app === app)
    .filter((p) => broken.some((d) => d.readBy(p.definition.match)))
    .map((p) => p.name);
}

function describeBroken(broken: readonly MappingDependency[]): string {
  return broken.map((d) => `${d.table}.${d.column} (${d.role})`).join(' and ');
}

function describeProfiles(names: readonly string[]): string {
  if (names.length === 0) return 'No profile of this workspace reads it yet';
  return `Profile(s) ${names.map((n) => `"${n}"`).join(', ')} read it and would return no members (or the wrong ones)`;
}

/** The refusal of an edit that breaks dependencies without --force. */
export function dependencyRefusal(broken: readonly MappingDependency[], names: readonly string[]): ConfigError {
  return new ConfigError(
    'MAPPING_IN_USE',
    `This change stops feeding ${describeBroken(broken)} from its usual field. ${describeProfiles(names)}. Nothing was changed.`,
    { hint: 'To change it anyway, run the same command again with --force; it then lists the profiles that stop working.' },
  );
}

/** What the operator is told after a forced edit. */
export function forcedNotice(broken: readonly MappingDependency[], names: readonly string[], undo?: string): string {
  const profiles = names.length === 0 ? 'No profile reads it now.' : `Profiles that stop working: ${names.map((n) => `"${n}"`).join(', ')}.`;
  return `Forced: ${describeBroken(broken)} is no longer fed from its usual field. ${profiles}${undo ? ` Undo it with \`${undo}\`.` : ''}`;
}
