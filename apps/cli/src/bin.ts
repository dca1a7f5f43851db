import { EXIT } from './exit-codes.js';
import { processIo } from './io.js';
import { main } from './program.js';

/** How long the process may linger once the command has ended (a pool or timer a library left open). */
const EXIT_GRACE_MS = 3000;

const io = processIo();
const code = await main(process.argv.slice(2), io);
process.exitCode = code;
// A reader that went away (`tributary logs | head -1`) ends the command as it ends git or seq: quietly,
// with 141 (128 + SIGPIPE). The EPIPE arrives a tick after the write, so it is looked at last.
process.once('exit', () => {
  if (io.brokenPipe()) process.exitCode = EXIT.brokenPipe;
});
// Every command has ended here, successfully or not: nothing may keep the process alive for long.
setTimeout(() => process.exit(io.brokenPipe() ? EXIT.brokenPipe : code), EXIT_GRACE_MS).unref();
