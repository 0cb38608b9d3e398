// Notify-and-pull (SERVER.md section 2, "Pull mode"; section 7, "SSRF-safe pull"): the server reads an image's
// cosign `.att`/`.sig` tags and OCI referrers itself (those the request's `collect` option asks for), from allowlisted registries only, by digest only, with every
// connection's resolved address checked (loopback, private, link-local, ULA, multicast refused unless the
// registry's rule says allowPrivate) and every redirect checked again (at most 3).
import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import { isIP, type LookupFunction } from 'node:net';
import type { ConnectGuard } from '@lading/engine/http';
import { RegistryClient } from '@lading/engine/registry';
import type { Kysely } from 'kysely';
import { decodeJson } from '../db/dialect.js';
import type { Database } from '../db/schema.js';
import { classifyPart, type PartName } from './bundle.js';
import type { IngestLimits } from './limits.js';
import type { IngestMetadata } from './metadata.js';
import type { BlobSink, StoredPart } from './multipart.js';
import { IngestRefusal, oneLine, refuse } from './refusal.js';

/** One allowlisted registry (`settings` key `ingest.registries`: a JSON array of these). */
export interface RegistryRule {
  /** `host[:port]` as in image references. */
  host: string;
  /** Plain HTTP allowed (and unchecked TLS), as the CLI's insecure registries. */
  insecure?: boolean;
  /** Private, loopback and link-local addresses allowed for this host (a registry inside the network). */
  allowPrivate?: boolean;
}

export const REGISTRIES_SETTING = 'ingest.registries';
const MAX_REDIRECTS = 3;
const COSIGN_SIGNATURE_ANNOTATION = 'dev.cosignproject.cosign/signature';
const LADING_REPORT_PREDICATE = 'https://lading.dev/attestations/report/v1';

export async function registryRules(db: Kysely<Database>): Promise<RegistryRule[]> {
  const row = await db.selectFrom('settings').select('value').where('key', '=', REGISTRIES_SETTING).executeTakeFirst();
  const value = decodeJson<unknown>(row?.value);
  if (!Array.isArray(value)) return [];
  return value.filter((r): r is RegistryRule => typeof r === 'object' && r !== null && typeof r.host === 'string');
}

/** Addresses a pull may not reach unless the registry's rule allows private ones. */
export function isForbiddenAddress(address: string): boolean {
  const v4mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  const ip = v4mapped?.[1] ?? address;
  if (isIP(ip) === 4) {
    const [a = 0, b = 0] = ip.split('.').map(Number);
    return (
      a === 0 || // "this network"
      a === 10 ||
      a === 127 ||
      (a === 100 && b >= 64 && b <= 127) || // carrier-grade NAT
      (a === 169 && b === 254) || // link-local, cloud metadata
      (a === 172 && b >= 16 && b <= 31) ||
      (a === 192 && b === 168) ||
      a >= 224 // multicast, reserved, broadcast
    );
  }
  const lower = ip.toLowerCase();
  return (
    lower === '::' ||
    lower === '::1' ||
    /^fe[89ab]/.test(lower) || // link-local fe80::/10
    /^f[cd]/.test(lower) || // unique local fc00::/7
    /^ff/.test(lower) // multicast
  );
}

function hostOf(url: URL): string {
  return url.hostname.replace(/^\[|\]$/g, '');
}

/**
 * The ConnectGuard of one pull: IP literals are judged by `checkUrl` (Node does not look them up), names by
 * `lookup` when each connection is opened. `refusal` keeps the first refusal so the API can answer 403 with it.
 */
export function pullGuard(rules: readonly RegistryRule[]): ConnectGuard & { refusal: IngestRefusal | undefined } {
  const allowPrivate = (host: string) =>
    rules.some((r) => r.allowPrivate === true && (r.host === host || r.host.replace(/:\d+$/, '') === host));
  const guard = {
    refusal: undefined as IngestRefusal | undefined,
    checkUrl(url: URL): void {
      const host = hostOf(url);
      if (isIP(host) && isForbiddenAddress(host) && !allowPrivate(url.host) && !allowPrivate(host)) {
        guard.refusal ??= refuse(403, `${url.host} is a private, loopback or link-local address`);
        throw guard.refusal;
      }
    },
    lookup: ((
      hostname: string,
      options: { all?: boolean; family?: number },
      callback: (...args: unknown[]) => void,
    ) => {
      dnsLookup(hostname, { all: true, family: options.family ?? 0 }, (err, addresses: LookupAddress[]) => {
        if (err) return callback(err);
        const bad = allowPrivate(hostname) ? undefined : addresses.find((a) => isForbiddenAddress(a.address));
        if (bad || addresses.length === 0) {
          guard.refusal ??= refuse(
            403,
            `${hostname} resolves to ${bad?.address ?? 'nothing'}, a private, loopback or link-local address`,
          );
          const e = new Error(guard.refusal.detail) as NodeJS.ErrnoException;
          e.code = 'EADDRNOTALLOWED';
          return callback(e);
        }
        if (options.all) return callback(null, addresses);
        const first = addresses[0] as LookupAddress;
        return callback(null, first.address, first.family);
      });
    }) as unknown as LookupFunction,
  };
  return guard;
}

export interface PullRequestBody {
  image: string;
  tags?: string[];
  ci?: Record<string, unknown>;
  collect?: CollectOptions;
}

/** Where a kind of document may be collected from: the cosign `.att` tag, the OCI referrers, either, or not at all. */
export type CollectSource = 'attestation' | 'referrers' | 'any' | 'none';

/**
 * What a pull collects (SERVER.md section 2, `collect`): per kind of document, where from. `sbom` and `report` (the
 * Lading scan report) cover those predicates and their envelopes; `provenance` covers every other attestation (SLSA
 * provenance, VEX, …); `signature` the cosign `.sig` tag. The `.att` tag is read only when some kind takes it, the
 * referrers only when some kind takes them. Everything, from anywhere, by default.
 */
export interface CollectOptions {
  sbom: CollectSource;
  report: CollectSource;
  provenance: CollectSource;
  signature: boolean;
}

export const COLLECT_ALL: CollectOptions = { sbom: 'any', report: 'any', provenance: 'any', signature: true };
const COLLECT_SOURCES: readonly CollectSource[] = ['attestation', 'referrers', 'any', 'none'];

/**
 * Reads a request's `collect` object (absent: everything). Each of `sbom`, `report`, `provenance` is one of
 * attestation, referrers, any, none (or true = any, false = none); `signature` is a boolean. Anything else is a 422
 * naming the field, never silently a different pull.
 */
export function parseCollect(value: unknown): CollectOptions {
  if (value === undefined || value === null) return { ...COLLECT_ALL };
  if (typeof value !== 'object' || Array.isArray(value)) {
    throw refuse(422, 'collect must be an object {sbom, report, provenance, signature}', 'collect');
  }
  const collect = { ...COLLECT_ALL };
  for (const [key, v] of Object.entries(value as Record<string, unknown>)) {
    if (key === 'signature') {
      if (typeof v !== 'boolean') throw refuse(422, 'collect.signature must be true or false', 'collect');
      collect.signature = v;
    } else if (key === 'sbom' || key === 'report' || key === 'provenance') {
      const source = v === true ? 'any' : v === false ? 'none' : v;
      if (typeof source !== 'string' || !COLLECT_SOURCES.includes(source as CollectSource)) {
        throw refuse(422, `collect.${key} must be one of ${COLLECT_SOURCES.join(', ')}`, 'collect');
      }
      collect[key] = source as CollectSource;
    } else {
      throw refuse(422, `collect.${key.slice(0, 40)} is not one of sbom, report, provenance, signature`, 'collect');
    }
  }
  return collect;
}

/** The collect option's kind of an attestation: by its predicate (an SBOM, a Lading report, anything else). */
type AttestedKind = 'sbom' | 'report' | 'provenance';

function takes(source: CollectSource, from: 'attestation' | 'referrers'): boolean {
  return source === 'any' || source === from;
}

/** `host[:port]/path@sha256:…`, nothing else: the server pulls by digest only, from a named registry. */
export function parsePullReference(image: unknown): { registry: string; repository: string; digest: string } {
  const m = typeof image === 'string' ? /^([^/@]+)\/([a-z0-9._/-]+)@(sha256:[0-9a-f]{64})$/.exec(image) : null;
  const registry = m?.[1];
  if (!m || !registry || !(registry.includes('.') || registry.includes(':') || registry === 'localhost')) {
    throw refuse(
      422,
      'image must be a digest reference with its registry: host[:port]/repository@sha256:<64 hex>',
      'image',
    );
  }
  return { registry, repository: m[2] ?? '', digest: m[3] ?? '' };
}

/**
 * Reads the image's evidence from its registry and stores it in the blob store: the manifest must exist (by its
 * digest); then the cosign `.att` tag (each DSSE envelope an attestation; an SBOM or Lading report predicate also
 * as that part), the `.sig` tag (each signature as `{payload, signature}`) and the OCI referrers (by artifact type).
 * Documents that are none of the bundle's kinds are left out; nothing found at all is a 422.
 */
export async function pullEvidence(
  input: {
    metadata: IngestMetadata;
    registry: string;
    repository: string;
    rules: readonly RegistryRule[];
    /** What to collect, from where; everything when absent. */
    collect?: CollectOptions;
  },
  blobs: BlobSink,
  limits: IngestLimits,
  signal?: AbortSignal,
): Promise<StoredPart[]> {
  const { metadata, registry, repository } = input;
  const rule = input.rules.find((r) => r.host === registry);
  if (!rule) throw refuse(403, `registry ${registry} is not on this server's pull allowlist`);
  const guard = pullGuard(input.rules);
  // Judged once before any request as well (the registry host itself), so that a refusal is certain to be the
  // guard's even before the registry client's own connections consult it.
  await precheck(guard, registry);
  const client = new RegistryClient({
    insecureRegistries: rule.insecure ? [registry] : [],
    // never the server's own docker credentials
    dockerConfigPath: '/nonexistent/lading-server/config.json',
    connectGuard: guard,
    maxRedirects: MAX_REDIRECTS,
    timeoutMs: 30_000,
    retry: { retries: 1 },
    ...(signal ? { signal } : {}),
  });
  const repo = { registry, repository };
  const collect = input.collect ?? COLLECT_ALL;
  const kinds: readonly AttestedKind[] = ['sbom', 'report', 'provenance'];
  const readAtt = kinds.some((k) => takes(collect[k], 'attestation'));
  const readReferrers = kinds.some((k) => takes(collect[k], 'referrers'));
  const found: { name: PartName; bytes: Buffer }[] = [];
  // an attestation envelope, with its SBOM or report predicate as that part, when the collect option takes its kind
  const attested = (bytes: Buffer, from: 'attestation' | 'referrers') => {
    const predicate = predicateOf(bytes);
    const kind: AttestedKind =
      predicate?.name === 'sbom' || predicate?.name === 'report' ? predicate.name : 'provenance';
    if (!takes(collect[kind], from)) return;
    found.push({ name: 'attestation', bytes });
    if (predicate) found.push(predicate);
  };
  try {
    await client.getManifest({ registry, repository, digest: metadata.digest });
    const tag = `sha256-${metadata.digest.slice('sha256:'.length)}`;
    const att = readAtt ? await optionalManifest(client, repo, `${tag}.att`) : undefined;
    for (const layer of att?.layers ?? []) {
      attested(await client.getBlobBytes(repo, layer.digest, limits.maxPartBytes), 'attestation');
    }
    const sig = collect.signature ? await optionalManifest(client, repo, `${tag}.sig`) : undefined;
    for (const layer of sig?.layers ?? []) {
      const signature = layer.annotations?.[COSIGN_SIGNATURE_ANNOTATION];
      if (!signature) continue;
      const payload = await client.getBlobBytes(repo, layer.digest, 1024 * 1024);
      found.push({
        name: 'signature',
        bytes: Buffer.from(JSON.stringify({ payload: payload.toString('base64'), signature })),
      });
    }
    const referrers = readReferrers ? await client.getReferrers(repo, metadata.digest).catch(() => []) : [];
    for (const referrer of referrers) {
      const name = partForArtifactType(referrer.artifactType ?? '');
      if (!name || ((name === 'sbom' || name === 'report') && !takes(collect[name], 'referrers'))) continue;
      const manifest = JSON.parse(
        (await client.getManifest({ registry, repository, digest: referrer.digest })).bytes.toString('utf8'),
      ) as Manifest;
      const layer = manifest.layers?.[0];
      if (!layer) continue;
      const bytes = await client.getBlobBytes(repo, layer.digest, limits.maxPartBytes);
      if (name === 'attestation') attested(bytes, 'referrers');
      else found.push({ name, bytes });
    }
  } catch (err) {
    if (guard.refusal) throw guard.refusal;
    if (err instanceof IngestRefusal) throw err;
    const message = err instanceof Error ? err.message : String(err);
    throw refuse(422, `pulling ${registry}/${repository}@${metadata.digest}: ${oneLine(message)}`, 'image');
  }
  const parts: StoredPart[] = [];
  const seen = new Set<string>();
  for (const { name, bytes } of found) {
    let classified: ReturnType<typeof classifyPart>;
    try {
      classified = classifyPart(name, bytes, metadata);
    } catch {
      continue;
    }
    // a single sbom and report per bundle, as in push mode
    if ((name === 'sbom' || name === 'report') && parts.some((p) => p.name === name)) continue;
    const stored = await blobs.put(bytes, { maxBytes: limits.maxPartBytes });
    if (seen.has(`${name}:${stored.sha256}`)) continue;
    seen.add(`${name}:${stored.sha256}`);
    parts.push({
      name,
      ...classified,
      filename: null,
      sha256: stored.sha256,
      size: stored.size,
      created: stored.created,
    });
  }
  if (parts.length === 0) {
    throw refuse(
      422,
      `found no SBOM, report, attestation or signature for ${registry}/${repository}@${metadata.digest}${
        input.collect && describeCollect(input.collect) !== describeCollect(COLLECT_ALL)
          ? ` (collecting ${describeCollect(input.collect)})`
          : ''
      }`,
      'image',
    );
  }
  return parts;
}

/** `sbom from referrers, report none, provenance from any, signature` for a refusal's one line. */
function describeCollect(c: CollectOptions): string {
  const from = (k: AttestedKind) => `${k} ${c[k] === 'none' ? 'none' : `from ${c[k]}`}`;
  return `${from('sbom')}, ${from('report')}, ${from('provenance')}, ${c.signature ? 'signature' : 'no signature'}`;
}

async function precheck(guard: ReturnType<typeof pullGuard>, registry: string): Promise<void> {
  const url = new URL(`http://${registry}/`);
  guard.checkUrl(url);
  const host = hostOf(url);
  if (isIP(host)) return;
  await new Promise<void>((resolve, reject) => {
    const callback = (err: Error | null) =>
      err ? reject(guard.refusal ?? refuse(422, `${registry}: ${oneLine(err.message)}`, 'image')) : resolve();
    (guard.lookup as unknown as (h: string, o: { all: boolean }, cb: (err: Error | null) => void) => void)(
      host,
      { all: true },
      callback,
    );
  });
}

interface Manifest {
  layers?: { digest: string; annotations?: Record<string, string> }[];
}

async function optionalManifest(
  client: RegistryClient,
  repo: { registry: string; repository: string },
  tag: string,
): Promise<Manifest | undefined> {
  try {
    return JSON.parse((await client.getManifest({ ...repo, tag })).bytes.toString('utf8')) as Manifest;
  } catch (err) {
    if ((err as { code?: string }).code === 'NOT_FOUND') return undefined;
    throw err;
  }
}

/** An attested SBOM or Lading report, as its own part (the predicate, re-serialised from the statement). */
function predicateOf(envelope: Buffer): { name: PartName; bytes: Buffer } | undefined {
  try {
    const dsse = JSON.parse(envelope.toString('utf8')) as { payload?: string };
    const statement = JSON.parse(Buffer.from(dsse.payload ?? '', 'base64').toString('utf8')) as {
      predicateType?: string;
      predicate?: unknown;
    };
    const type = statement.predicateType ?? '';
    if (/cyclonedx\.org\/bom|spdx\.dev\/Document/i.test(type))
      return { name: 'sbom', bytes: Buffer.from(JSON.stringify(statement.predicate)) };
    if (type === LADING_REPORT_PREDICATE)
      return { name: 'report', bytes: Buffer.from(JSON.stringify(statement.predicate)) };
  } catch {
    // not an envelope of JSON: kept as an attestation only
  }
  return undefined;
}

function partForArtifactType(type: string): PartName | undefined {
  if (/cyclonedx|spdx/i.test(type)) return 'sbom';
  if (/vnd\.lading\.report/i.test(type)) return 'report';
  if (/dsse|in-toto|sigstore\.bundle/i.test(type)) return 'attestation';
  return undefined;
}
