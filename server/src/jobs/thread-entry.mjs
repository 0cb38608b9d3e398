// The job thread's entry point. A Worker does not inherit loader hooks registered in-process (the bin's tsx
// register()), so it registers tsx itself before loading the TypeScript; under `--import tsx` (the tests) the
// Worker inherits that flag and the second registration is harmless.
import { register } from 'tsx/esm/api';

register();
await import('./thread-main.ts');
