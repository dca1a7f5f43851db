#!/usr/bin/env node
// The CLI runs from its TypeScript source so that a fresh clone works after `npm install`, with no build step.
import { register } from 'tsx/esm/api';

register();
await import('../src/bin.ts');
