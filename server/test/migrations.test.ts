import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { sql } from 'kysely';
import { migrateToLatest } from '../src/db/migrate.js';
import { TABLES } from '../src/db/migrations/0001_initial.js';
import { GRAPHILE_SCHEMA } from '../src/jobs/graphile.js';
import { forEachDatabase, openTestDatabase, type TestDatabase } from './helpers/database.js';

interface ColumnShape {
  readonly name: string;
  readonly nullable: boolean;
  readonly hasDefault: boolean;
}
type Shape = Record<string, ColumnShape[]>;

async function shapeOf(db: TestDatabase): Promise<Shape> {
  const tables = await db.db.introspection.getTables();
  const shape: Shape = {};
  for (const table of tables) {
    // graphile-worker's own schema (PostgreSQL's job runner) is its migrations', not ours
    if (table.schema === GRAPHILE_SCHEMA) continue;
    shape[table.name] = table.columns
      .map((c) => ({ name: c.name, nullable: c.isNullable, hasDefault: c.hasDefaultValue || c.isAutoIncrementing }))
      .sort((a, b) => a.name.localeCompare(b.name));
  }
  return shape;
}

const shapes: Partial<Record<string, Shape>> = {};

forEachDatabase((kind) => {
  let db: TestDatabase;
  before(async () => {
    db = await openTestDatabase(kind);
  });
  after(() => db.close());

  test('every table of 0001 exists, and every table has a created_at', async () => {
    const shape = await shapeOf(db);
    shapes[kind] = shape;
    // 0001's tables at least (later migrations add more; the parity test below covers every table)
    const missing = TABLES.map((t) => t.name).filter((name) => !(name in shape));
    assert.deepEqual(missing, []);
    for (const [name, columns] of Object.entries(shape)) {
      assert.ok(
        columns.some((c) => c.name === 'created_at' && !c.nullable),
        `${name} has created_at`,
      );
    }
  });

  test('running the migrations again applies nothing', async () => {
    const outcome = await migrateToLatest(db.db, db.dialect);
    assert.deepEqual(outcome.applied, []);
  });

  test('identity keys are filled by the database and read back as numbers', async () => {
    const first = await db.db
      .insertInto('teams')
      .values({ name: 'a', created_at: 1 })
      .returning('id')
      .executeTakeFirstOrThrow();
    const second = await db.db
      .insertInto('teams')
      .values({ name: 'b', created_at: 2 })
      .returning('id')
      .executeTakeFirstOrThrow();
    assert.equal(typeof first.id, 'number');
    assert.ok(second.id > first.id);
    const row = await db.db
      .selectFrom('teams')
      .select(['id', 'created_at'])
      .where('name', '=', 'b')
      .executeTakeFirstOrThrow();
    assert.deepEqual(row, { id: second.id, created_at: 2 });
  });

  test('JSON columns read back as text on both engines, times as numbers beyond 2^31', async () => {
    const at = Date.UTC(2026, 11, 6);
    await db.db
      .insertInto('settings')
      .values({ key: 'k', value: JSON.stringify({ a: [1, 'x'] }), updated_at: at, created_at: at })
      .execute();
    const row = await db.db.selectFrom('settings').selectAll().where('key', '=', 'k').executeTakeFirstOrThrow();
    assert.equal(typeof row.value, 'string');
    assert.deepEqual(JSON.parse(row.value), { a: [1, 'x'] });
    assert.equal(row.updated_at, at);
  });

  test('one open tag_history row per tag (partial unique index)', async () => {
    const repo = await db.db
      .insertInto('repositories')
      .values({ public_id: 'r1', name: 'ghcr.io/a/b', name_lc: 'ghcr.io/a/b', created_at: 1 })
      .returning('id')
      .executeTakeFirstOrThrow();
    const image = await db.db
      .insertInto('images')
      .values({
        digest: 'sha256:aa',
        platform: 'linux/amd64',
        first_ingested_at: 1,
        last_ingested_at: 1,
        created_at: 1,
      })
      .returning('id')
      .executeTakeFirstOrThrow();
    const tag = await db.db
      .insertInto('tags')
      .values({ repository_id: repo.id, name: 'latest', moved_at: 1, created_at: 1 })
      .returning('id')
      .executeTakeFirstOrThrow();
    const row = { tag_id: tag.id, image_id: image.id, source: 'ci' as const, created_at: 1 };
    await db.db
      .insertInto('tag_history')
      .values({ ...row, from_at: 1, to_at: 2 })
      .execute();
    await db.db
      .insertInto('tag_history')
      .values({ ...row, from_at: 2, to_at: null })
      .execute();
    await assert.rejects(
      db.db
        .insertInto('tag_history')
        .values({ ...row, from_at: 3, to_at: null })
        .execute(),
    );
  });

  test('foreign keys are enforced', async () => {
    await assert.rejects(
      db.db.insertInto('tags').values({ repository_id: 999_999, name: 'x', moved_at: 1, created_at: 1 }).execute(),
    );
  });

  test('the database answers a trivial query', async () => {
    const { rows } = await sql<{ one: number }>`select 1 as one`.execute(db.db);
    assert.equal(Number(rows[0]?.one), 1);
  });
});

test('SQLite and PostgreSQL have the same tables, columns, nullability and defaults', () => {
  assert.ok(shapes.sqlite && shapes.postgres, 'both engines were introspected');
  // one line per column, so a difference reads as the columns that differ
  const lines = (shape: Shape) =>
    Object.entries(shape).flatMap(([table, columns]) =>
      columns.map((c) => `${table}.${c.name}${c.nullable ? ' null' : ''}${c.hasDefault ? ' default' : ''}`),
    );
  assert.deepEqual(lines(shapes.sqlite).sort(), lines(shapes.postgres).sort());
});
