import { LadingError } from '../errors/lading-error.js';
import type { LoadedDocument } from './document.js';
import type { VexStatement } from './vex-apply.js';

export { applyVex, type VexStatement } from './vex-apply.js';

const OPENVEX_STATUSES = new Set(['not_affected', 'affected', 'fixed', 'under_investigation']);
const CDX_STATE: Record<string, VexStatement['status']> = {
  not_affected: 'not_affected',
  false_positive: 'not_affected',
  resolved: 'fixed',
  resolved_with_pedigree: 'fixed',
  exploitable: 'affected',
  in_triage: 'under_investigation',
};

/** Reads an OpenVEX or CycloneDX VEX document; malformed ones are usage errors (exit 2) naming line and field. */
export async function loadVex(file: string): Promise<VexStatement[]> {
  // Loaded on first use, like loadPolicy's: the YAML parser stays out of scans that read no VEX.
  const { loadDocument, MAX_VEX_BYTES } = await import('./document.js');
  const doc = await loadDocument(file, 'VEX document', MAX_VEX_BYTES);
  const value = doc.value as Record<string, unknown> | null;
  if (!value || typeof value !== 'object' || Array.isArray(value)) fail(doc, [], 'expected an object');
  if (typeof value['@context'] === 'string' && value['@context'].includes('openvex'))
    return readOpenVex(doc, value, file);
  if (value['bomFormat'] === 'CycloneDX') return readCycloneDxVex(doc, value, file);
  fail(doc, [], 'neither OpenVEX (@context) nor CycloneDX (bomFormat)');
}

function readOpenVex(doc: LoadedDocument, value: Record<string, unknown>, file: string): VexStatement[] {
  const statements = value['statements'];
  if (!Array.isArray(statements)) fail(doc, ['statements'], 'must be an array');
  const docTime = typeof value['timestamp'] === 'string' ? value['timestamp'] : undefined;
  return statements.map((raw, i) => {
    const at = ['statements', i];
    if (!isObject(raw)) fail(doc, at, 'must be an object');
    const vuln = raw['vulnerability'];
    const ids: string[] = [];
    if (typeof vuln === 'string') ids.push(vuln);
    else if (isObject(vuln)) {
      for (const key of ['name', '@id']) if (typeof vuln[key] === 'string') ids.push(vuln[key] as string);
      if (Array.isArray(vuln['aliases']))
        for (const alias of vuln['aliases']) if (typeof alias === 'string') ids.push(alias);
    }
    if (ids.length === 0) fail(doc, [...at, 'vulnerability'], 'missing vulnerability name');
    const status = raw['status'];
    if (typeof status !== 'string' || !OPENVEX_STATUSES.has(status)) {
      fail(doc, [...at, 'status'], `must be one of ${[...OPENVEX_STATUSES].join(', ')}`);
    }
    if (status === 'not_affected' && !raw['justification'] && !raw['impact_statement']) {
      fail(doc, [...at, 'justification'], 'not_affected needs a justification or impact_statement');
    }
    const products: string[] = [];
    const rawProducts = raw['products'];
    if (rawProducts !== undefined && !Array.isArray(rawProducts)) fail(doc, [...at, 'products'], 'must be an array');
    for (const [j, p] of (rawProducts ?? []).entries()) {
      if (typeof p === 'string') {
        products.push(p);
        continue;
      }
      if (!isObject(p)) fail(doc, [...at, 'products', j], 'must be an object or a string');
      const subs = Array.isArray(p['subcomponents']) ? p['subcomponents'] : [];
      const subIds = subs.map((s) => (typeof s === 'string' ? s : isObject(s) ? s['@id'] : undefined));
      const named = subIds.filter((s): s is string => typeof s === 'string');
      // With subcomponents the statement is about those packages inside the product.
      if (named.length) {
        for (const product of named) products.push(product);
      } else if (typeof p['@id'] === 'string') products.push(p['@id']);
      const identifiers = isObject(p['identifiers']) ? p['identifiers'] : undefined;
      if (!named.length && typeof identifiers?.['purl'] === 'string') products.push(identifiers['purl']);
    }
    const statement: VexStatement = {
      vulnerabilities: ids,
      products,
      status: status as VexStatement['status'],
      source: file,
    };
    const justification = raw['justification'];
    if (typeof justification === 'string') statement.justification = justification;
    if (typeof raw['impact_statement'] === 'string') statement.detail = raw['impact_statement'];
    const time = typeof raw['timestamp'] === 'string' ? raw['timestamp'] : docTime;
    if (time) statement.timestamp = time;
    return statement;
  });
}

function readCycloneDxVex(doc: LoadedDocument, value: Record<string, unknown>, file: string): VexStatement[] {
  const vulns = value['vulnerabilities'];
  if (vulns === undefined) return [];
  if (!Array.isArray(vulns)) fail(doc, ['vulnerabilities'], 'must be an array');
  const refToPurl = new Map<string, string>();
  const walk = (components: unknown) => {
    if (!Array.isArray(components)) return;
    for (const c of components) {
      if (!isObject(c)) continue;
      if (typeof c['bom-ref'] === 'string' && typeof c['purl'] === 'string') refToPurl.set(c['bom-ref'], c['purl']);
      walk(c['components']);
    }
  };
  walk(value['components']);
  const out: VexStatement[] = [];
  for (const [i, raw] of vulns.entries()) {
    const at = ['vulnerabilities', i];
    if (!isObject(raw)) fail(doc, at, 'must be an object');
    if (typeof raw['id'] !== 'string') fail(doc, [...at, 'id'], 'missing vulnerability id');
    const analysis = raw['analysis'];
    if (analysis === undefined) continue;
    if (!isObject(analysis)) fail(doc, [...at, 'analysis'], 'must be an object');
    const state = analysis['state'];
    if (typeof state !== 'string' || !(state in CDX_STATE)) {
      fail(doc, [...at, 'analysis', 'state'], `must be one of ${Object.keys(CDX_STATE).join(', ')}`);
    }
    const ids = [raw['id']];
    if (Array.isArray(raw['references'])) {
      for (const r of raw['references']) if (isObject(r) && typeof r['id'] === 'string') ids.push(r['id']);
    }
    const affects = raw['affects'];
    if (affects !== undefined && !Array.isArray(affects)) fail(doc, [...at, 'affects'], 'must be an array');
    const products = (affects ?? [])
      .map((a) => (isObject(a) && typeof a['ref'] === 'string' ? a['ref'] : undefined))
      .filter((r): r is string => !!r)
      .map((ref) => refToPurl.get(ref) ?? refToPurl.get(ref.split('#').pop() ?? '') ?? ref.split('#').pop() ?? ref);
    const statement: VexStatement = { vulnerabilities: ids, products, status: CDX_STATE[state]!, source: file };
    if (typeof analysis['justification'] === 'string') statement.justification = analysis['justification'];
    if (typeof analysis['detail'] === 'string') statement.detail = analysis['detail'];
    out.push(statement);
  }
  return out;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function fail(doc: LoadedDocument, path: (string | number)[], message: string): never {
  const field = path.map((p, i) => (typeof p === 'number' ? `[${p}]` : i === 0 ? p : `.${p}`)).join('');
  throw new LadingError('CONFIG', `${doc.where(path)}: invalid VEX document: ${field ? `${field}: ` : ''}${message}`);
}
