import { processIo } from '../io.js';
import { main } from '../program.js';

// Runs several `tributary` commands one after another in this process, so that a test can capture
// everything the real process writes, the logger's own stderr stream included, with one start-up.
// Usage: run-commands.ts '<JSON array of argument arrays>'. After each command it prints a marker
// line with the command's index and exit code.

const commands = JSON.parse(process.argv[2] ?? '[]') as string[][];
for (const [index, args] of commands.entries()) {
  const code = await main(args, processIo());
  process.stdout.write(`\n@@ command ${index} exited ${code}\n`);
}
