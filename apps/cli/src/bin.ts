import { processIo } from './io.js';
import { main } from './program.js';

/** How long the process may linger once the command has ended (a pool or timer a library left open). */
const EXIT_GRACE_MS = 3000;

const code = await main(process.argv.slice(2), processIo());
process.exitCode = code;
// Every command has ended here, successfully or not: nothing may keep the process alive for long.
setTimeout(() => process.exit(code), EXIT_GRACE_MS).unref();
