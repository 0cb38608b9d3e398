#!/usr/bin/env node
// lading-server: runs the server's TypeScript sources through tsx (a root devDependency, installed by `npm ci`),
// in this process, so signals (and a kill -9) reach the server itself. The engine resolves to its built dist/, which
// the root `npm ci` builds (its `prepare` script).
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../src/main.ts');
process.exit(await main(process.argv.slice(2)));
