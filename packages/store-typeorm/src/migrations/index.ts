import type { MigrationInterface } from 'typeorm';
import { InitialSchemaPostgres1764201600000 } from './postgres/1764201600000-InitialSchema.js';
import { InitialSchemaSqlite1764201600000 } from './sqlite/1764201600000-InitialSchema.js';
import { ProfilesPostgres1764201700000 } from './postgres/1764201700000-Profiles.js';
import { ProfilesSqlite1764201700000 } from './sqlite/1764201700000-Profiles.js';
import { AppLifecyclePostgres1764201800000 } from './postgres/1764201800000-AppLifecycle.js';
import { AppLifecycleSqlite1764201800000 } from './sqlite/1764201800000-AppLifecycle.js';
import { SchedulingPostgres1764201900000 } from './postgres/1764201900000-Scheduling.js';
import { SchedulingSqlite1764201900000 } from './sqlite/1764201900000-Scheduling.js';
import { RunLeasesSqlite1764202000000 } from './sqlite/1764202000000-RunLeases.js';
import { ContactIdsPostgres1764202100000 } from './postgres/1764202100000-ContactIds.js';
import { ContactIdsSqlite1764202100000 } from './sqlite/1764202100000-ContactIds.js';
import { RejectedRecordLookupPostgres1764202200000 } from './postgres/1764202200000-RejectedRecordLookup.js';
import { RejectedRecordLookupSqlite1764202200000 } from './sqlite/1764202200000-RejectedRecordLookup.js';
import { WorkspaceAdminsPostgres1764202300000 } from './postgres/1764202300000-WorkspaceAdmins.js';
import { WorkspaceAdminsSqlite1764202300000 } from './sqlite/1764202300000-WorkspaceAdmins.js';
import { RunTalliesPostgres1764500000000 } from './postgres/1764500000000-RunTallies.js';
import { RunTalliesSqlite1764500000000 } from './sqlite/1764500000000-RunTallies.js';
import { RunStatesPostgres1764500100000 } from './postgres/1764500100000-RunStates.js';
import { RunStatesSqlite1764500100000 } from './sqlite/1764500100000-RunStates.js';
import { RowRunIdsPostgres1764500110000 } from './postgres/1764500110000-RowRunIds.js';
import { RowRunIdsSqlite1764500110000 } from './sqlite/1764500110000-RowRunIds.js';
import { PurgedInstallationsPostgres1764500200000 } from './postgres/1764500200000-PurgedInstallations.js';
import { PurgedInstallationsSqlite1764500200000 } from './sqlite/1764500200000-PurgedInstallations.js';
import { ConnectorVersionPostgres1764500500000 } from './postgres/1764500500000-ConnectorVersion.js';
import { ConnectorVersionSqlite1764500500000 } from './sqlite/1764500500000-ConnectorVersion.js';
import { RunSavedSummaryPostgres1764500600000 } from './postgres/1764500600000-RunSavedSummary.js';
import { RunSavedSummarySqlite1764500600000 } from './sqlite/1764500600000-RunSavedSummary.js';
import { IdentityPostgres1764600200000 } from './postgres/1764600200000-Identity.js';
import { IdentitySqlite1764600200000 } from './sqlite/1764600200000-Identity.js';
import { DestinationsPostgres1764600400000 } from './postgres/1764600400000-Destinations.js';
import { DestinationsSqlite1764600400000 } from './sqlite/1764600400000-Destinations.js';
import { PersonalDataPostgres1764600600000 } from './postgres/1764600600000-PersonalData.js';
import { PersonalDataSqlite1764600600000 } from './sqlite/1764600600000-PersonalData.js';
import { JobsPostgres1764700400000 } from './postgres/1764700400000-Jobs.js';
import { JobsSqlite1764700400000 } from './sqlite/1764700400000-Jobs.js';
import { ScheduleAtInstallPostgres1764800100000 } from './postgres/1764800100000-ScheduleAtInstall.js';
import { ScheduleAtInstallSqlite1764800100000 } from './sqlite/1764800100000-ScheduleAtInstall.js';
import { MemberOrderIndexesPostgres1764800200000 } from './postgres/1764800200000-MemberOrderIndexes.js';
import { MemberOrderIndexesSqlite1764800200000 } from './sqlite/1764800200000-MemberOrderIndexes.js';
import { OrphanProfileViewsPostgres1764800600000 } from './postgres/1764800600000-OrphanProfileViews.js';
import { OrphanProfileViewsSqlite1764800600000 } from './sqlite/1764800600000-OrphanProfileViews.js';

// Only the lists of Tributary's own migrations live here, oldest first (ordered by the 13-digit
// timestamp), so that adding one touches this file and not the dialect code.

/** PostgreSQL's migrations of Tributary's own tables, oldest first. */
export const POSTGRES_MIGRATIONS: readonly (new () => MigrationInterface)[] = [
  InitialSchemaPostgres1764201600000,
  ProfilesPostgres1764201700000,
  AppLifecyclePostgres1764201800000,
  SchedulingPostgres1764201900000,
  ContactIdsPostgres1764202100000,
  RejectedRecordLookupPostgres1764202200000,
  WorkspaceAdminsPostgres1764202300000,
  RunTalliesPostgres1764500000000,
  RunStatesPostgres1764500100000,
  RowRunIdsPostgres1764500110000,
  PurgedInstallationsPostgres1764500200000,
  ConnectorVersionPostgres1764500500000,
  RunSavedSummaryPostgres1764500600000,
  IdentityPostgres1764600200000,
  DestinationsPostgres1764600400000,
  PersonalDataPostgres1764600600000,
  JobsPostgres1764700400000,
  ScheduleAtInstallPostgres1764800100000,
  MemberOrderIndexesPostgres1764800200000,
  OrphanProfileViewsPostgres1764800600000,
];

/** SQLite's migrations of Tributary's own tables, oldest first. */
export const SQLITE_MIGRATIONS: readonly (new () => MigrationInterface)[] = [
  InitialSchemaSqlite1764201600000,
  ProfilesSqlite1764201700000,
  AppLifecycleSqlite1764201800000,
  SchedulingSqlite1764201900000,
  RunLeasesSqlite1764202000000,
  ContactIdsSqlite1764202100000,
  RejectedRecordLookupSqlite1764202200000,
  WorkspaceAdminsSqlite1764202300000,
  RunTalliesSqlite1764500000000,
  RunStatesSqlite1764500100000,
  RowRunIdsSqlite1764500110000,
  PurgedInstallationsSqlite1764500200000,
  ConnectorVersionSqlite1764500500000,
  RunSavedSummarySqlite1764500600000,
  IdentitySqlite1764600200000,
  DestinationsSqlite1764600400000,
  PersonalDataSqlite1764600600000,
  JobsSqlite1764700400000,
  ScheduleAtInstallSqlite1764800100000,
  MemberOrderIndexesSqlite1764800200000,
  OrphanProfileViewsSqlite1764800600000,
];
