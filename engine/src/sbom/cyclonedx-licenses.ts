import { classifyLicense, type LicenseForm } from './license-expression.js';

type CdxLicense = { license: { id: string } | { license: { name: string } } } | Record<string, unknown>;

/**
 * A package's license strings as a CycloneDX `licenses` array. 1.5 and 1.6 accept either a list of
 * id/name licenses or exactly one expression; 1.7 lets them mix.
 */
export function cyclonedxLicenses(licenses: readonly string[], specVersion: string): CdxLicense[] | undefined {
  const forms = uniqueForms(licenses);
  if (forms.length === 0) return undefined;
  const hasExpression = forms.some((f) => f.kind === 'expression');
  if (!hasExpression || specVersion === '1.7') return forms.map(toEntry);
  if (forms.length === 1) return forms.map(toEntry);
  if (forms.every((f) => f.kind !== 'name')) {
    const joined = forms.map((f) => (f.kind === 'expression' ? `(${f.expression})` : (f as { id: string }).id));
    return [{ expression: joined.join(' AND ') }];
  }
  // Free text next to an expression: the 1.5/1.6 list form can only carry the expression as a name.
  return forms.map((f) => (f.kind === 'expression' ? { license: { name: f.expression } } : toEntry(f)));
}

function toEntry(form: LicenseForm): CdxLicense {
  switch (form.kind) {
    case 'id':
      return { license: { id: form.id } };
    case 'expression':
      return { expression: form.expression };
    default:
      return { license: { name: form.name } };
  }
}

/**
 * An image's packages share a few dozen license strings; each is classified (an expression parse) once. The
 * forms are only read, never changed. Bounded, as license strings come from the scanned files.
 */
const classified = new Map<string, { form: LicenseForm; key: string }>();
const MAX_CLASSIFIED = 4096;

function classifyOnce(text: string): { form: LicenseForm; key: string } {
  const known = classified.get(text);
  if (known) return known;
  const form = classifyLicense(text);
  const entry = { form, key: JSON.stringify(form) };
  if (classified.size < MAX_CLASSIFIED) classified.set(text, entry);
  return entry;
}

function uniqueForms(licenses: readonly string[]): LicenseForm[] {
  const seen = new Set<string>();
  const out: LicenseForm[] = [];
  for (const text of licenses) {
    if (text.trim() === '') continue;
    const { form, key } = classifyOnce(text);
    if (seen.has(key)) continue;
    seen.add(key);
    out.push(form);
  }
  return out;
}
