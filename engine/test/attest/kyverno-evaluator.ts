// What a Kyverno admission controller does with a `verifyImages` rule, for the policies `lading kyverno` writes:
// the image must match a pattern, each attestor set's keys must verify the cosign signature, each required
// attestation must exist with its predicate type, verify with the attestors' keys and satisfy the conditions. Kyverno
// itself is not available here; the policy is read as data and nothing about it is assumed beyond what it says.
// The crypto is the engine's verifier (cosign-compatible, tested against cosign's own vectors elsewhere).
import { createPublicKey } from 'node:crypto';
import { verifyImageAttestations } from '../../src/attest/image-attestations.js';
import { verifyImageSignatures } from '../../src/attest/image-signatures.js';
import { resolveImage } from '../../src/attest/image-target.js';
import type { AttachmentRegistry } from '../../src/attest/registry-port.js';

interface Keys {
  publicKeys: string;
  rekor?: { url: string; ignoreTlog?: boolean };
  ctlog?: { ignoreSCT?: boolean };
}
interface AttestorSet {
  count?: number;
  entries: { keys: Keys }[];
}
interface Condition {
  key: string;
  operator: string;
  value: unknown;
}
interface VerifyImages {
  imageReferences: string[];
  attestors?: AttestorSet[];
  attestations?: { type: string; attestors: AttestorSet[]; conditions?: { all?: Condition[]; any?: Condition[] }[] }[];
}
interface Policy {
  spec: { rules: { name: string; verifyImages?: VerifyImages[] }[] };
}

/** Kyverno's image patterns: `*` any run of characters (slashes too), `?` one character. */
function globMatches(pattern: string, value: string): boolean {
  const re = pattern
    .replace(/[.+^${}()|[\]\\]/g, '\\$&')
    .replace(/\*/g, '.*')
    .replace(/\?/g, '.');
  return new RegExp(`^${re}$`).test(value);
}

/** The decision for one image: allowed, or the reasons it is not (one per failed check). */
export async function admitImage(
  policy: unknown,
  image: string,
  registry: AttachmentRegistry,
): Promise<{ allowed: boolean; reasons: string[] }> {
  const reasons: string[] = [];
  for (const rule of (policy as Policy).spec.rules) {
    for (const entry of rule.verifyImages ?? []) {
      if (!entry.imageReferences.some((p) => globMatches(p, image))) continue;
      const resolved = await resolveImage(registry, image);
      for (const set of entry.attestors ?? []) {
        const passed = await countVerified(set, rule.name, reasons, (key) =>
          verifyImageSignatures(registry, resolved, key),
        );
        if (passed < (set.count ?? set.entries.length)) reasons.push(`${rule.name}: signature not verified`);
      }
      for (const attestation of entry.attestations ?? []) {
        for (const set of attestation.attestors) {
          const passed = await countVerified(set, rule.name, reasons, async (key) => {
            const statements = await verifyImageAttestations(registry, resolved, key, attestation.type);
            for (const statement of statements) {
              for (const block of attestation.conditions ?? []) {
                const all = (block.all ?? []).every((c) => conditionHolds(c, statement.predicate));
                const any = !block.any || block.any.some((c) => conditionHolds(c, statement.predicate));
                if (!all || !any) throw new Error(`${attestation.type}: conditions not met`);
              }
            }
          });
          if (passed < (set.count ?? set.entries.length)) {
            reasons.push(`${rule.name}: attestation ${attestation.type} not verified`);
          }
        }
      }
    }
  }
  return { allowed: reasons.length === 0, reasons };
}

async function countVerified(
  set: AttestorSet,
  rule: string,
  reasons: string[],
  verify: (key: ReturnType<typeof createPublicKey>) => Promise<unknown>,
): Promise<number> {
  let passed = 0;
  for (const { keys } of set.entries) {
    // Lading signs without a transparency log: an attestor that wants one cannot be satisfied.
    if (keys.rekor && keys.rekor.ignoreTlog !== true) {
      reasons.push(`${rule}: the attestor requires a Rekor entry`);
      continue;
    }
    try {
      await verify(createPublicKey(keys.publicKeys));
      passed++;
    } catch (err) {
      reasons.push(`${rule}: ${(err as Error).message}`);
    }
  }
  return passed;
}

function conditionHolds(condition: Condition, predicate: unknown): boolean {
  const m = /^\{\{\s*(.+?)\s*\}\}$/s.exec(condition.key);
  if (!m) throw new Error(`not a JMESPath key: ${condition.key}`);
  const actual = evaluate(m[1] as string, predicate);
  if (condition.operator !== 'Equals') throw new Error(`operator ${condition.operator} is not evaluated here`);
  return JSON.stringify(actual) === JSON.stringify(condition.value);
}

/**
 * A JMESPath subset, enough for the conditions the generator writes: `length(…)`, `a || \`literal\``, field paths,
 * flatten projections `[]` and filters `[?a=='x' && !b]`, with JMESPath's projection and null rules.
 */
export function evaluate(expression: string, root: unknown): unknown {
  const expr = expression.trim();
  const call = /^length\((.*)\)$/s.exec(expr);
  if (call) {
    const v = evaluate(call[1] as string, root);
    if (Array.isArray(v) || typeof v === 'string') return v.length;
    if (v && typeof v === 'object') return Object.keys(v).length;
    throw new Error('length() of a non-collection');
  }
  const or = splitTop(expr, '||');
  if (or) {
    const left = evaluate(or[0], root);
    return falsy(left) ? evaluate(or[1], root) : left;
  }
  const literal = /^`(.*)`$/s.exec(expr);
  if (literal) return JSON.parse(literal[1] as string);
  return path(expr, root);
}

function falsy(v: unknown): boolean {
  return (
    v === null ||
    v === undefined ||
    v === false ||
    v === '' ||
    (Array.isArray(v) && v.length === 0) ||
    (typeof v === 'object' && v !== null && Object.keys(v).length === 0)
  );
}

function splitTop(expr: string, op: string): [string, string] | undefined {
  let depth = 0;
  let quoted = '';
  for (let i = 0; i < expr.length; i++) {
    const c = expr[i] as string;
    if (quoted) {
      if (c === quoted) quoted = '';
    } else if (c === "'" || c === '`') quoted = c;
    else if (c === '[' || c === '(') depth++;
    else if (c === ']' || c === ')') depth--;
    else if (depth === 0 && expr.startsWith(op, i)) return [expr.slice(0, i), expr.slice(i + op.length)];
  }
  return undefined;
}

function path(expr: string, root: unknown): unknown {
  const steps = expr.match(/\[\?[^\]]*\]|\[\]|[A-Za-z_][A-Za-z0-9_]*/g) ?? [];
  let value: unknown = root;
  let projected = false;
  const field = (v: unknown, name: string) =>
    v && typeof v === 'object' && !Array.isArray(v) ? ((v as Record<string, unknown>)[name] ?? null) : null;
  for (const step of steps) {
    if (step === '[]') {
      const list = projected ? (value as unknown[]) : Array.isArray(value) ? value : null;
      if (list === null) return null;
      value = list.flatMap((x) => (Array.isArray(x) ? x : [x])).filter((x) => x !== null);
      projected = true;
    } else if (step.startsWith('[?')) {
      const test = filter(step.slice(2, -1));
      if (projected) {
        value = (value as unknown[]).map((x) => (Array.isArray(x) ? x.filter(test) : null)).filter((x) => x !== null);
      } else {
        value = Array.isArray(value) ? value.filter(test) : null;
        projected = true;
      }
    } else if (projected) {
      value = (value as unknown[]).map((x) => field(x, step)).filter((x) => x !== null);
    } else {
      value = field(value, step);
    }
  }
  return value;
}

function filter(expr: string): (item: unknown) => boolean {
  const terms = expr.split('&&').map((t) => t.trim());
  return (item) =>
    terms.every((term) => {
      const negated = /^!([A-Za-z_][A-Za-z0-9_]*)$/.exec(term);
      if (negated) return falsy(path(negated[1] as string, item));
      const eq = /^([A-Za-z_][A-Za-z0-9_.]*)\s*==\s*'([^']*)'$/.exec(term);
      if (!eq) throw new Error(`filter term not evaluated here: ${term}`);
      return path(eq[1] as string, item) === eq[2];
    });
}
