// What a command line needs before it runs anything: the built-in destinations (their ids, settings
// and help), the webhook allow-list check and the install helpers. Nothing here loads a database
// driver, pg-boss or the HTTP client at import, so that `tributary --help` starts at once; the
// package's main entry re-exports all of it with the rest.
export { webhookDestination } from './destinations/webhook.js';
export { fileDestination, fileNamesOf } from './destinations/file.js';
export { viewDestination } from './destinations/view.js';
export { isWebhookAllowEntry } from './destinations/limits.js';
export { settingsWithoutSecrets, sourceIdentityOf } from './install.js';
