import type { Readable } from 'node:stream';
import { abortedError } from '../errors/abort.js';
import { LadingError } from '../errors/lading-error.js';
import { discardBody, headerValue, readBody } from '../http/body.js';
import type { ConnectGuard } from '../http/client.js';
import { resumableBody } from '../http/resumable.js';
import { DEFAULT_RETRY, type RetryPolicy } from '../http/retry.js';
import type { Descriptor } from '../oci/descriptor.js';
import { MAX_MANIFEST_BYTES, parseImageIndex } from '../oci/manifest.js';
import { MANIFEST_ACCEPT, MEDIA_TYPES } from '../oci/media-types.js';
import { LADING_VERSION } from '../version.js';
import { Authenticator } from './auth.js';
import type { Credentials } from './credentials.js';
import { DigestVerifier, digestLike, sha256Digest } from './digest.js';
import { credentialsFor, defaultDockerConfigPath, loadDockerConfig } from './docker-config.js';
import { statusError } from './errors.js';
import {
  formatReference,
  formatRepository,
  isDigest,
  isTagOrDigest,
  type Reference,
  type RepositoryRef,
  toReference,
  toRepository,
} from './reference.js';
import { type RegistryRequest, type RegistryResponse, Transport } from './transport.js';

export interface RegistryClientOptions {
  /** Hosts (host[:port]) that may be reached over plain HTTP besides localhost/127.0.0.1/[::1]. */
  insecureRegistries?: string[];
  /** Defaults to `$DOCKER_CONFIG/config.json` or `~/.docker/config.json`. */
  dockerConfigPath?: string;
  /** Explicit credentials per registry; they win over the docker config. */
  credentials?: Record<string, Credentials>;
  userAgent?: string;
  /** Socket idle timeout per request. */
  timeoutMs?: number;
  retry?: Partial<RetryPolicy>;
  /**
   * Stops this client's requests when it fires: one waiting for its answer rejects with LadingError('ABORTED')
   * at once, and blob streams are destroyed (their sockets closed).
   */
  signal?: AbortSignal;
  /** Largest manifest accepted (default and most: 4 MiB, as containerd; oci/ refuses bigger ones). */
  maxManifestBytes?: number;
  /** Where requests may go (HttpClient's ConnectGuard): for a server pulling from registries its users name. */
  connectGuard?: ConnectGuard;
  /** Redirects followed per request (default 5). */
  maxRedirects?: number;
}

export interface ManifestResult {
  bytes: Buffer;
  mediaType: string;
  digest: string;
}

export interface ManifestHead {
  digest: string;
  mediaType: string;
  size: number;
}

type RepoLike = RepositoryRef | string;

/** How long a connection may stay silent; a request that times out twice fails (about a minute at worst). */
const DEFAULT_TIMEOUT_MS = 30_000;
const MAX_TAG_PAGES = 1000;

/** An OCI distribution-spec client: pull and push manifests and blobs, list tags, find referrers. */
export class RegistryClient {
  private readonly transport: Transport;
  private readonly maxManifestBytes: number;
  private readonly retry: RetryPolicy;
  private readonly signal: AbortSignal | undefined;

  constructor(options: RegistryClientOptions = {}) {
    const configPath = options.dockerConfigPath ?? defaultDockerConfigPath();
    let config: ReturnType<typeof loadDockerConfig> | undefined;
    const explicit = options.credentials ?? {};
    const lookup = async (registry: string): Promise<Credentials | undefined> => {
      if (explicit[registry]) return explicit[registry];
      config ??= loadDockerConfig(configPath);
      return credentialsFor(await config, registry);
    };
    this.retry = { ...DEFAULT_RETRY, ...options.retry };
    this.signal = options.signal;
    this.transport = new Transport({
      insecureRegistries: options.insecureRegistries ?? [],
      userAgent: options.userAgent ?? `lading/${LADING_VERSION}`,
      timeoutMs: options.timeoutMs ?? DEFAULT_TIMEOUT_MS,
      retry: this.retry,
      authenticator: new Authenticator(lookup),
      ...(options.connectGuard ? { connectGuard: options.connectGuard } : {}),
      ...(options.maxRedirects !== undefined ? { maxRedirects: options.maxRedirects } : {}),
    });
    this.maxManifestBytes = options.maxManifestBytes ?? MAX_MANIFEST_BYTES;
  }

  /** Fetches a manifest or index by tag or digest; when asked by digest, the bytes must hash to it. */
  async getManifest(refLike: Reference | string, accept: readonly string[] = MANIFEST_ACCEPT): Promise<ManifestResult> {
    const ref = toReference(refLike);
    const what = formatReference(ref);
    const res = await this.send({
      registry: ref.registry,
      method: 'GET',
      path: `/v2/${ref.repository}/manifests/${ref.digest ?? ref.tag ?? 'latest'}`,
      headers: { accept: accept.join(', ') },
      scope: pullScope(ref),
      what,
    });
    if (res.status !== 200) throw await statusError(res, `manifest ${what}`);
    const bytes = await readBody(res, this.maxManifestBytes, `manifest ${what}`);
    const digest = ref.digest ? digestLike(ref.digest, bytes) : sha256Digest(bytes);
    if (ref.digest && digest !== ref.digest) {
      throw new LadingError('DIGEST_MISMATCH', `manifest ${what}: content has digest ${digest}`);
    }
    return { bytes, mediaType: manifestMediaType(res, bytes), digest };
  }

  /** Digest, media type and size of a manifest without fetching it; undefined when it does not exist. */
  async headManifest(
    refLike: Reference | string,
    accept: readonly string[] = MANIFEST_ACCEPT,
  ): Promise<ManifestHead | undefined> {
    const ref = toReference(refLike);
    const what = formatReference(ref);
    const res = await this.send({
      registry: ref.registry,
      method: 'HEAD',
      path: `/v2/${ref.repository}/manifests/${ref.digest ?? ref.tag ?? 'latest'}`,
      headers: { accept: accept.join(', ') },
      scope: pullScope(ref),
      what,
    });
    discardBody(res);
    if (res.status === 404) return undefined;
    if (res.status !== 200) throw await statusError(res, `manifest ${what}`);
    const digest = headerValue(res.headers, 'docker-content-digest') ?? ref.digest;
    if (!digest || !isDigest(digest)) {
      // Some registries omit the digest on HEAD: fall back to fetching the bytes.
      const full = await this.getManifest(ref, accept);
      return { digest: full.digest, mediaType: full.mediaType, size: full.bytes.length };
    }
    return {
      digest,
      mediaType: (headerValue(res.headers, 'content-type') ?? '').split(';')[0]!.trim(),
      size: Number(headerValue(res.headers, 'content-length') ?? 0),
    };
  }

  /** Uploads a manifest under a tag or its digest; returns its digest. */
  async putManifest(repoLike: RepoLike, tagOrDigest: string, bytes: Buffer, mediaType: string): Promise<string> {
    const repo = toRepository(repoLike);
    if (!isTagOrDigest(tagOrDigest)) throw new LadingError('USAGE', `invalid tag or digest "${tagOrDigest}"`);
    const digest = sha256Digest(bytes);
    if (isDigest(tagOrDigest) && digestLike(tagOrDigest, bytes) !== tagOrDigest) {
      throw new LadingError('DIGEST_MISMATCH', `manifest for ${formatRepository(repo)}: content is not ${tagOrDigest}`);
    }
    const what = `${formatRepository(repo)}${isDigest(tagOrDigest) ? '@' : ':'}${tagOrDigest}`;
    const res = await this.send({
      registry: repo.registry,
      method: 'PUT',
      path: `/v2/${repo.repository}/manifests/${tagOrDigest}`,
      headers: { 'content-type': mediaType },
      body: bytes,
      scope: pushScope(repo),
      what,
    });
    if (res.status !== 201 && res.status !== 200) throw await statusError(res, `pushing manifest ${what}`);
    discardBody(res);
    return digest;
  }

  async blobExists(repoLike: RepoLike, digest: string): Promise<boolean> {
    const repo = toRepository(repoLike);
    const what = `blob ${formatRepository(repo)}@${digest}`;
    const res = await this.send({
      registry: repo.registry,
      method: 'HEAD',
      path: `/v2/${repo.repository}/blobs/${digest}`,
      scope: pullScope(repo),
      what,
    });
    discardBody(res);
    if (res.status === 200) return true;
    if (res.status === 404) return false;
    throw await statusError(res, what);
  }

  /**
   * Streams a blob; the stream fails with DIGEST_MISMATCH at its end if the bytes are not `digest`
   * (or not `expectedSize` bytes long, when given).
   */
  async getBlob(repoLike: RepoLike, digest: string, expectedSize?: number): Promise<Readable> {
    const repo = toRepository(repoLike);
    const what = `blob ${formatRepository(repo)}@${digest}`;
    if (!isDigest(digest)) throw new LadingError('BAD_INPUT', `${what}: invalid digest`);
    const res = await this.send({
      registry: repo.registry,
      method: 'GET',
      path: `/v2/${repo.repository}/blobs/${digest}`,
      scope: pullScope(repo),
      what,
    });
    if (res.status !== 200) throw await statusError(res, what);
    const verifier = new DigestVerifier(digest, what, expectedSize);
    const reopen = (offset: number) =>
      this.send({
        registry: repo.registry,
        method: 'GET',
        path: `/v2/${repo.repository}/blobs/${digest}`,
        headers: { range: `bytes=${offset}-` },
        scope: pullScope(repo),
        what,
      });
    const body = resumableBody(res, reopen, this.retry, what, this.signal);
    body.on('error', (err) => verifier.destroy(err));
    // A consumer that stops early must not leave the socket streaming into nowhere.
    verifier.on('close', () => {
      if (!body.readableEnded) body.destroy();
    });
    body.pipe(verifier);
    const signal = this.signal;
    if (signal) {
      const stop = () => verifier.destroy(abortedError());
      signal.addEventListener('abort', stop, { once: true });
      verifier.on('close', () => signal.removeEventListener('abort', stop));
    }
    return verifier;
  }

  /**
   * Every request of this client, with its AbortSignal: the HTTP stack cancels a request on the wire when it fires
   * (the socket is closed, a retry's wait ends) and rejects with LadingError('ABORTED').
   */
  private send(req: RegistryRequest): Promise<RegistryResponse> {
    return this.transport.request(this.signal ? { ...req, signal: this.signal } : req);
  }

  /** A small blob (a config, a signature payload) read whole and verified. */
  async getBlobBytes(repoLike: RepoLike, digest: string, maxBytes: number): Promise<Buffer> {
    const stream = await this.getBlob(repoLike, digest);
    const chunks: Buffer[] = [];
    let total = 0;
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      total += chunk.length;
      if (total > maxBytes) {
        stream.destroy();
        throw new LadingError('LIMIT', `blob ${digest} is more than the ${maxBytes} bytes allowed`);
      }
      chunks.push(chunk);
    }
    return Buffer.concat(chunks);
  }

  /** Monolithic upload (POST then PUT with the whole body); skipped when the registry already has the blob. */
  async pushBlob(repoLike: RepoLike, data: Buffer, digest?: string): Promise<string> {
    const repo = toRepository(repoLike);
    const actual = digest ? digestLike(digest, data) : sha256Digest(data);
    if (digest && actual !== digest) {
      throw new LadingError('DIGEST_MISMATCH', `blob for ${formatRepository(repo)}: content is not ${digest}`);
    }
    if (await this.blobExists(repo, actual)) return actual;
    const what = `blob upload to ${formatRepository(repo)}`;
    const started = await this.send({
      registry: repo.registry,
      method: 'POST',
      path: `/v2/${repo.repository}/blobs/uploads/`,
      scope: pushScope(repo),
      what,
    });
    if (started.status !== 202) throw await statusError(started, what);
    discardBody(started);
    const location = headerValue(started.headers, 'location');
    if (!location) throw new LadingError('REGISTRY', `${what}: the registry gave no upload location`);
    const url = await this.transport.resolveLocation(repo.registry, location);
    url.searchParams.set('digest', actual);
    const done = await this.send({
      registry: repo.registry,
      method: 'PUT',
      path: url.toString(),
      headers: { 'content-type': 'application/octet-stream' },
      body: data,
      scope: pushScope(repo),
      what,
    });
    if (done.status !== 201 && done.status !== 204) throw await statusError(done, what);
    discardBody(done);
    return actual;
  }

  /** All tags of a repository, following `Link: <…>; rel="next"` pages. */
  async listTags(repoLike: RepoLike): Promise<string[]> {
    const repo = toRepository(repoLike);
    const what = `tags of ${formatRepository(repo)}`;
    const tags: string[] = [];
    let path = `/v2/${repo.repository}/tags/list`;
    for (let page = 0; page < MAX_TAG_PAGES; page++) {
      const res = await this.send({
        registry: repo.registry,
        method: 'GET',
        path,
        scope: pullScope(repo),
        what,
      });
      if (res.status !== 200) throw await statusError(res, what);
      const body = await readBody(res, this.maxManifestBytes, what);
      let parsed: { tags?: unknown };
      try {
        parsed = JSON.parse(body.toString('utf8'));
      } catch {
        throw new LadingError('REGISTRY', `${what}: the registry sent something other than JSON`);
      }
      if (Array.isArray(parsed.tags)) for (const tag of parsed.tags) if (typeof tag === 'string') tags.push(tag);
      const next = nextLink(headerValue(res.headers, 'link'));
      if (!next) return tags;
      path = next.startsWith('/') || /^https?:/i.test(next) ? next : `/${next}`;
    }
    throw new LadingError('REGISTRY', `${what}: more than ${MAX_TAG_PAGES} pages`);
  }

  /**
   * Manifests that refer to `digest` through their `subject` (OCI 1.1 referrers API), falling back to the
   * `sha256-<hex>` tag schema on registries without the API. Optionally filtered by artifact type.
   */
  async getReferrers(repoLike: RepoLike, digest: string, artifactType?: string): Promise<Descriptor[]> {
    const repo = toRepository(repoLike);
    const what = `referrers of ${formatRepository(repo)}@${digest}`;
    if (!isDigest(digest)) throw new LadingError('BAD_INPUT', `${what}: invalid digest`);
    const query = artifactType ? `?artifactType=${encodeURIComponent(artifactType)}` : '';
    const res = await this.send({
      registry: repo.registry,
      method: 'GET',
      path: `/v2/${repo.repository}/referrers/${digest}${query}`,
      headers: { accept: MEDIA_TYPES.ociIndex },
      scope: pullScope(repo),
      what,
    });
    const contentType = (headerValue(res.headers, 'content-type') ?? '').split(';')[0]!.trim();
    let index: ReturnType<typeof parseImageIndex>;
    if (res.status === 200 && contentType === MEDIA_TYPES.ociIndex) {
      index = parseImageIndex(await readBody(res, this.maxManifestBytes, what), what);
    } else if (res.status === 404 || res.status === 200 || res.status === 400) {
      discardBody(res);
      const tag = digest.replace(':', '-');
      const head = await this.headManifest({ ...repo, tag }, [MEDIA_TYPES.ociIndex]);
      if (!head) return [];
      const fallback = await this.getManifest({ ...repo, tag }, [MEDIA_TYPES.ociIndex]);
      index = parseImageIndex(fallback.bytes, `${what} (tag ${tag})`);
    } else {
      throw await statusError(res, what);
    }
    return artifactType ? index.manifests.filter((m) => m.artifactType === artifactType) : index.manifests;
  }
}

function pullScope(repo: RepositoryRef): string {
  return `repository:${repo.repository}:pull`;
}

function pushScope(repo: RepositoryRef): string {
  return `repository:${repo.repository}:pull,push`;
}

/** Content-Type as the registry sent it, else the document's own `mediaType`. */
function manifestMediaType(res: RegistryResponse, bytes: Buffer): string {
  const header = (headerValue(res.headers, 'content-type') ?? '').split(';')[0]!.trim();
  if (header && header !== 'application/json' && header !== 'text/plain') return header;
  try {
    const doc = JSON.parse(bytes.toString('utf8')) as {
      mediaType?: unknown;
      manifests?: unknown;
      schemaVersion?: unknown;
    };
    if (typeof doc.mediaType === 'string') return doc.mediaType;
    if (doc.schemaVersion === 1) return MEDIA_TYPES.dockerSchema1;
    if (Array.isArray(doc.manifests)) return MEDIA_TYPES.ociIndex;
    return MEDIA_TYPES.ociManifest;
  } catch {
    return header || 'application/octet-stream';
  }
}

function nextLink(link: string | undefined): string | undefined {
  if (!link) return undefined;
  const m = /<([^>]+)>\s*;\s*rel="?next"?/i.exec(link);
  return m?.[1];
}
