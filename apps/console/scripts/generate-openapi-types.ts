import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { apiTypesSource } from './openapi-document.js';

const target = fileURLToPath(new URL('../src/api/schema.d.ts', import.meta.url));
writeFileSync(target, await apiTypesSource());
console.log(`Wrote ${target}`);
