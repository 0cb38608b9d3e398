// The address guard of outbound targets (SERVER.md section 7 gives it for the pull ingest; webhooks, Slack and Teams
// URLs, rebuild webhooks, SMTP relays and the GitHub integration's API base URL are the same kind of user-named
// address): a target whose name resolves to a loopback, private (RFC 1918, CGNAT, ULA), link-local (169.254/16:
// cloud metadata) or multicast address is refused when the connection is opened — after the lookup, so a name that
// changes its answer between a check and the connection (DNS rebinding) cannot slip through — unless the
// administrator allowlisted it in the server configuration (LADING_OUTBOUND_ALLOW_PRIVATE: host names, addresses or
// CIDR ranges).
import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import { BlockList, isIP, type LookupFunction } from 'node:net';
import { type ConnectGuard, discardBody, HttpClient } from '@lading/engine/http';
import { parseAllowEntry } from '../config.js';
import { isForbiddenAddress } from '../ingest/pull.js';

/** A target the guard refused: permanent (retrying reaches the same address), so its delivery ends at once. */
export class TargetRefused extends Error {
  override readonly name = 'TargetRefused';
}

export interface TargetGuard extends ConnectGuard {
  /** Judges a host given as an address literal (Node does not look those up): throws TargetRefused. */
  checkHost(host: string): void;
  /** The first refusal, kept so the caller reports it rather than the connection error it caused. */
  readonly refusal: TargetRefused | undefined;
}

const ALLOW_HINT = 'allowlist it in LADING_OUTBOUND_ALLOW_PRIVATE to deliver there';

function familyOf(address: string): 'ipv4' | 'ipv6' {
  return isIP(address) === 6 ? 'ipv6' : 'ipv4';
}

/** A guard for one delivery, from the server's allowlist of private targets. */
export function targetGuard(allowPrivate: readonly string[]): TargetGuard {
  const hosts = new Set<string>();
  const allowed = new BlockList();
  for (const entry of allowPrivate) {
    const parsed = parseAllowEntry(entry);
    if (!parsed) continue;
    if (parsed.kind === 'host') hosts.add(parsed.value.replace(/\.$/, ''));
    else if (parsed.kind === 'address') allowed.addAddress(parsed.value, familyOf(parsed.value));
    else {
      const [net = '', bits = '0'] = parsed.value.split('/');
      allowed.addSubnet(net, Number(bits), familyOf(net));
    }
  }
  const addressAllowed = (address: string): boolean => {
    if (!isForbiddenAddress(address)) return true;
    const v4 = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address)?.[1];
    return allowed.check(v4 ?? address, familyOf(v4 ?? address));
  };
  const guard: TargetGuard & { refusal: TargetRefused | undefined } = {
    refusal: undefined,
    checkHost(host: string): void {
      const bare = host.replace(/^\[|\]$/g, '');
      if (isIP(bare) && !addressAllowed(bare) && !hosts.has(bare.toLowerCase())) {
        guard.refusal ??= new TargetRefused(
          `the target ${bare} is a private, loopback or link-local address; ${ALLOW_HINT}`,
        );
        throw guard.refusal;
      }
    },
    checkUrl(url: URL): void {
      guard.checkHost(url.hostname);
    },
    lookup: ((
      hostname: string,
      options: { all?: boolean; family?: number },
      callback: (...args: unknown[]) => void,
    ) => {
      dnsLookup(hostname, { all: true, family: options.family ?? 0 }, (err, addresses: LookupAddress[]) => {
        if (err) return callback(err);
        const named = hosts.has(hostname.toLowerCase().replace(/\.$/, ''));
        const bad = named ? undefined : addresses.find((a) => !addressAllowed(a.address));
        if (bad || addresses.length === 0) {
          guard.refusal ??= new TargetRefused(
            `the target ${hostname} resolves to ${bad?.address ?? 'nothing'}, a private, loopback or link-local address; ${ALLOW_HINT}`,
          );
          const e = new Error(guard.refusal.message) as NodeJS.ErrnoException;
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

/**
 * An HTTP client whose every connection goes through a fresh guard (for clients the engine drives, such as the
 * GitHub API client: GitHub Enterprise's base URL is user-named too). After a failed request, `guard.refusal` says
 * whether the guard caused it.
 */
export function guardedHttpClient(
  allowPrivate: readonly string[],
  options: { readonly userAgent: string },
): { readonly http: HttpClient; readonly guard: TargetGuard } {
  const guard = targetGuard(allowPrivate);
  return { http: new HttpClient({ connectGuard: guard, userAgent: options.userAgent }), guard };
}

/**
 * POSTs a body to a user-named URL through the guard (the engine's HTTP stack: connect-time address checks, an
 * idle timeout and an overall deadline); no redirects followed, no retries here (the job's backoff retries).
 * Resolves with the answer's status; throws TargetRefused for a refused address, else an Error naming the host.
 */
export async function postGuarded(
  url: string,
  headers: Record<string, string>,
  body: string,
  options: { readonly allowPrivate: readonly string[]; readonly timeoutMs: number },
): Promise<number> {
  const target = new URL(url);
  const guard = targetGuard(options.allowPrivate);
  const client = new HttpClient({
    connectGuard: guard,
    userAgent: 'lading-server',
    idleTimeoutMs: options.timeoutMs,
    minimumRate: false,
    maxRedirects: 0,
    retry: { retries: 0 },
  });
  try {
    const res = await client.request({
      method: 'POST',
      url: target,
      headers,
      body: Buffer.from(body, 'utf8'),
      followRedirects: false,
      retry: false,
      deadlineMs: options.timeoutMs,
      what: target.host,
    });
    discardBody(res);
    return res.status;
  } catch (error) {
    if (guard.refusal) throw guard.refusal;
    if (error instanceof TargetRefused) throw error;
    throw new Error(`POST to ${target.host} failed: ${error instanceof Error ? error.message : String(error)}`);
  }
}
