#!/usr/bin/env node
// `npm run demo`: an embedded lading-server with a demo fleet on its first start (server/src/demo.ts), run from the
// TypeScript sources through tsx in this process, as bin/lading-server.mjs does.
import { register } from 'tsx/esm/api';

register();
const { runDemo } = await import('../src/demo.ts');
process.exit(await runDemo(process.argv.slice(2), (text) => process.stdout.write(text)));
