// `lading-server`: start a node, or apply the migrations.
//   lading-server start   [--database URL|PATH] [--data-dir DIR] [--listen HOST:PORT] [--role api|worker|all] [--demo]
//                         [--rate-limits ingest=N,read=N,login=N,token:ID.ingest=N,…] [--public-origin URL]…
//   lading-server migrate [--database URL|PATH] [--data-dir DIR]
//   lading-server backup --to DIR [--data-dir DIR]      (the embedded mode: SQLite online backup + blobs + key)
// `start` applies pending migrations first (Kysely's migration lock makes simultaneous starts of several nodes safe),
// and on a database without users creates the administrator and prints its password and an API token ONCE.
// `start --demo` (embedded database only) fills an empty server, on its first start only, with the demo fleet that
// `npm run demo` makes (server/src/demo.ts, loaded only then: it needs a development checkout's CLI and examples/).
// Exit codes as the CLI's: 2 for a usage or configuration error, 3 for an operational failure.
import { randomBytes } from 'node:crypto';
import { parseArgs } from 'node:util';
import { createApiToken } from './auth/index.js';
import { insertUser } from './auth/store.js';
import { backupEmbedded } from './backup.js';
import { ConfigError, configFromEnvironment, type ServerConfig } from './config.js';
import { createContext } from './context.js';
import { describeTarget, openDatabase } from './db/connection.js';
import { migrateToLatest } from './db/migrate.js';
import { startServerNode } from './node.js';

const USAGE = `usage: lading-server start   [--database URL|PATH] [--data-dir DIR] [--listen HOST:PORT] [--role api|worker|all] [--demo]
                             [--rate-limits ingest=N,read=N,login=N,token:ID.ingest=N,…] [--public-origin URL]…
       lading-server migrate [--database URL|PATH] [--data-dir DIR]
       lading-server backup  --to DIR [--database PATH] [--data-dir DIR]`;

/** The first administrator's token lives 90 days: long enough to set up teams and real tokens, not forever. */
const BOOTSTRAP_TOKEN_DAYS = 90;

async function migrate(config: ServerConfig): Promise<readonly string[]> {
  const handle = await openDatabase(config.database, { poolSize: 2 });
  try {
    return (await migrateToLatest(handle.db, handle.dialect)).applied;
  } finally {
    await handle.close();
  }
}

/** On a database without users: the administrator, a random password and an admin token, printed once. */
async function bootstrapAdministrator(config: ServerConfig, write: (text: string) => void): Promise<void> {
  const ctx = await createContext(config);
  try {
    const anyone = await ctx.db.selectFrom('users').select('id').limit(1).executeTakeFirst();
    if (anyone) return;
    const password = randomBytes(18).toString('base64url');
    const admin = await insertUser(ctx.db, { login: 'admin', password, isAdmin: true }, ctx.now());
    const { token } = await createApiToken(ctx, {
      name: 'bootstrap admin',
      scopes: ['ingest', 'read', 'triage', 'admin'],
      repositoryPattern: '*',
      expiresAt: ctx.now() + BOOTSTRAP_TOKEN_DAYS * 86_400_000,
      ownerUserId: admin.id,
    });
    write(
      [
        'Created the administrator. These are shown ONCE; store them now.',
        '  login:    admin',
        `  password: ${password}`,
        `  token:    ${token}   (admin scopes, expires in ${BOOTSTRAP_TOKEN_DAYS} days)`,
        '',
      ].join('\n'),
    );
  } finally {
    await ctx.close();
  }
}

/** The demo module, loaded only for --demo: it imports the checkout's examples/, which a packed server lacks. */
async function loadDemo(): Promise<typeof import('./demo.js')> {
  try {
    return await import('./demo.js');
  } catch (error) {
    throw new ConfigError(
      `--demo needs a development checkout of lading (its examples/ and bin/lading): ${(error instanceof Error ? error.message : String(error)).split('\n')[0]}`,
    );
  }
}

export async function main(argv: readonly string[]): Promise<number> {
  let parsed: ReturnType<typeof parseArgs>;
  try {
    parsed = parseArgs({
      args: [...argv],
      allowPositionals: true,
      options: {
        database: { type: 'string' },
        'data-dir': { type: 'string' },
        listen: { type: 'string' },
        role: { type: 'string' },
        'rate-limits': { type: 'string' },
        'public-origin': { type: 'string', multiple: true },
        to: { type: 'string' },
        demo: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (error) {
    process.stderr.write(`lading-server: ${error instanceof Error ? error.message : String(error)}\n${USAGE}\n`);
    return 2;
  }
  const { values, positionals } = parsed;
  const command = positionals[0] ?? 'start';
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  if (positionals.length > 1 || !['start', 'migrate', 'backup'].includes(command)) {
    process.stderr.write(`lading-server: unknown command "${positionals.join(' ')}"\n${USAGE}\n`);
    return 2;
  }
  let config: ServerConfig;
  try {
    config = configFromEnvironment({
      database: values.database as string | undefined,
      dataDir: values['data-dir'] as string | undefined,
      listen: values.listen as string | undefined,
      role: values.role as string | undefined,
      rateLimits: values['rate-limits'] as string | undefined,
      publicOrigins: (values['public-origin'] as string[] | undefined)?.join(','),
    });
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`lading-server: ${error.message}\n`);
      return 2;
    }
    throw error;
  }
  if (values.demo && command !== 'start') {
    process.stderr.write(`lading-server: --demo goes with start\n${USAGE}\n`);
    return 2;
  }
  if (values.demo && config.database.kind !== 'sqlite') {
    // demo repositories in a real PostgreSQL would mix with real data; the demo is for the embedded mode
    process.stderr.write('lading-server: --demo fills the embedded database only; leave out --database\n');
    return 2;
  }
  if (command === 'backup' && !values.to) {
    process.stderr.write(`lading-server: backup needs --to DIR\n${USAGE}\n`);
    return 2;
  }
  try {
    const applied = await migrate(config);
    const where = describeTarget(config.database);
    if (command === 'migrate') {
      process.stdout.write(
        applied.length === 0 ? `${where}: up to date\n` : `${where}: applied ${applied.join(', ')}\n`,
      );
      return 0;
    }
    if (command === 'backup') {
      const ctx = await createContext(config);
      try {
        const outcome = await backupEmbedded(ctx, values.to as string);
        process.stdout.write(
          `backup in ${outcome.dir}: database, secret key, ${outcome.blobs} blobs (${outcome.copied} copied now)\n`,
        );
      } finally {
        await ctx.close();
      }
      return 0;
    }
    await bootstrapAdministrator(config, (text) => process.stdout.write(text));
    const node = await startServerNode(config);
    process.stdout.write(`lading-server (${config.role}) on ${node.url}, database ${where}, node ${node.ctx.nodeId}\n`);
    if (values.demo) {
      try {
        const demo = await loadDemo();
        const write = (text: string) => process.stdout.write(text);
        const pushed = await demo.seedDemoOnFirstStart(node, write);
        process.stdout.write(
          pushed > 0
            ? `Demo data ready: ${pushed} builds under ${demo.DEMO_DOMAIN}/ (labelled demo data)\n`
            : `Demo: not a first start, nothing added\n`,
        );
      } catch (error) {
        await node.close();
        throw error;
      }
    }
    await new Promise<void>((resolve) => {
      const stop = () => {
        process.off('SIGTERM', stop);
        process.off('SIGINT', stop);
        resolve();
      };
      process.on('SIGTERM', stop);
      process.on('SIGINT', stop);
    });
    await node.close();
    return 0;
  } catch (error) {
    process.stderr.write(`lading-server: ${error instanceof Error ? error.message : String(error)}\n`);
    return error instanceof ConfigError ? 2 : 3;
  }
}
