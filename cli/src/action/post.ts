// The Action's `post:` entry (dist/action/post.js), run by the runner after the job's steps even when one failed
// (post-if: always()): saves the vulnerability database to the actions cache. A failure here is a warning, never a
// failed job: the scan's verdict was already given.
import { thrownValueText } from '@lading/engine/errors';
import { saveDbCache } from './cache.js';
import { booleanInput, githubContextFrom } from './environment.js';

const env = process.env;
try {
  if (booleanInput(env, 'db-cache', true)) {
    const outcome = await saveDbCache(githubContextFrom(env), env, new Date());
    process.stdout.write(`lading: vulnerability database cache: ${outcome}\n`);
  }
} catch (err) {
  process.stdout.write(
    `::warning::vulnerability database cache not saved: ${thrownValueText(err).replace(/\n/g, ' ')}\n`,
  );
}
