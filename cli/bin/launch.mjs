// Starts the bundled CLI; both cli/bin/lading and the repository's bin/lading run this file.
// Node 22.1+ keeps compiled code between runs (in the system temp folder unless NODE_COMPILE_CACHE says otherwise);
// NODE_DISABLE_COMPILE_CACHE=1 turns it off. Node 20 has no such cache.
import module from 'node:module';

if (typeof module.enableCompileCache === 'function' && !process.env.NODE_DISABLE_COMPILE_CACHE) {
  try {
    module.enableCompileCache();
  } catch {
    // A read-only temp folder only costs speed.
  }
}
// --debug (or LADING_DEBUG=1) prints stacks: map them back to the TypeScript sources.
if (process.argv.includes('--debug') || process.env.LADING_DEBUG === '1') {
  // module.setSourceMapsSupport is the stable API from Node 22.14; process.setSourceMapsEnabled before that.
  if (typeof module.setSourceMapsSupport === 'function') module.setSourceMapsSupport(true);
  else process.setSourceMapsEnabled(true);
}

import(new URL('../dist/bundle/bin.js', import.meta.url).href).catch((err) => {
  process.stderr.write(`lading: cannot start (${err?.message}); run \`npm ci\` (it builds dist/)\n`);
  process.exit(3);
});
