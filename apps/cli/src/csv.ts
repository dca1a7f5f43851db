// Moved to @tributary/core so that the HTTP API's CSV exports escape exactly as the CLI's; kept here for the CLI's imports.
export { csvField, toCsv, type CsvValue } from '@tributary/core';
