// The exceptions that hold for a batch of images at re-analysis time. An exception is a decision about a
// vulnerability in a repository (optionally one image, one package name), not about the findings that existed when
// it was made: a finding re-analysis adds or reopens for an excepted vulnerability is suppressed by it, as the
// exceptions API and the ingest job (ingest/exceptions.ts) do, so new data never undoes a triage decision.
import type { Transaction } from 'kysely';
import type { Database } from '../db/schema.js';

export interface HeldException {
  readonly id: number;
  readonly vulnerabilityId: number;
  /** Lowercased package name the exception is limited to, or null for every package. */
  readonly packageName: string | null;
}

const IDS_PER_STATEMENT = 500;

/** Image id → the active exceptions of every repository the image is placed in that apply to that image. */
export async function exceptionsHeldFor(
  trx: Transaction<Database>,
  imageIds: readonly number[],
  now: number,
): Promise<Map<number, HeldException[]>> {
  const held = new Map<number, HeldException[]>();
  for (let i = 0; i < imageIds.length; i += IDS_PER_STATEMENT) {
    const rows = await trx
      .selectFrom('exceptions as x')
      .innerJoin('repository_images as ri', 'ri.repository_id', 'x.repository_id')
      .innerJoin('images as img', 'img.id', 'ri.image_id')
      .select(['ri.image_id', 'x.id', 'x.vulnerability_id', 'x.package_pattern'])
      .where('ri.image_id', 'in', imageIds.slice(i, i + IDS_PER_STATEMENT))
      .where('x.revoked_at', 'is', null)
      .where('x.expires_at', '>', now)
      .where((eb) => eb.or([eb('x.image_digest', 'is', null), eb('x.image_digest', '=', eb.ref('img.digest'))]))
      .orderBy('x.id')
      .execute();
    for (const r of rows) {
      const imageId = Number(r.image_id);
      const list = held.get(imageId) ?? [];
      list.push({
        id: Number(r.id),
        vulnerabilityId: Number(r.vulnerability_id),
        packageName: r.package_pattern === null ? null : r.package_pattern.toLowerCase(),
      });
      held.set(imageId, list);
    }
  }
  return held;
}

/** The oldest held exception covering `vulnerabilityId` in the package named `packageName`, if any. */
export function heldException(
  held: readonly HeldException[] | undefined,
  vulnerabilityId: number,
  packageName: string,
): number | null {
  const name = packageName.toLowerCase();
  const match = held?.find(
    (x) => x.vulnerabilityId === vulnerabilityId && (x.packageName === null || x.packageName === name),
  );
  return match ? match.id : null;
}
