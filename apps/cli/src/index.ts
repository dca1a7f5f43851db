export { main, buildProgram } from './program.js';
export { readEnv, envSchema, type Env } from './env.js';
export { EXIT, exitCodeFor, describeFailure, CommandFailed } from './exit-codes.js';
export { processIo, type Io } from './io.js';
