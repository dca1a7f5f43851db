import { EXIT } from './exit-codes.js';
import { processIo } from './io.js';
import { main } from './program.js';

const io = processIo();
process.exitCode = await main(process.argv.slice(2), io);
// A reader that went away (`tributary logs | head -1`) ends the command as it ends git or seq: quietly,
// with 141 (128 + SIGPIPE). The EPIPE arrives a tick after the write, so it is looked at last.
process.once('exit', () => {
  if (io.brokenPipe()) process.exitCode = EXIT.brokenPipe;
});
