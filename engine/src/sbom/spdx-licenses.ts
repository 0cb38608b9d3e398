import { createHash } from 'node:crypto';
import { classifyLicense } from './license-expression.js';

export interface ExtractedLicense {
  licenseId: string;
  name: string;
  extractedText: string;
}

/**
 * Builds `licenseDeclared` values: valid SPDX ids/expressions as they are, anything else as a `LicenseRef-`
 * declared once per document in `hasExtractedLicensingInfos`.
 */
export class SpdxLicenseTable {
  private readonly extracted = new Map<string, ExtractedLicense>();

  declared(licenses: readonly string[]): string {
    const parts = [...new Set(licenses.map((l) => l.trim()).filter((l) => l !== ''))].map((text) => {
      const form = classifyLicense(text);
      if (form.kind === 'id') return form.id;
      if (form.kind === 'expression') return licenses.length > 1 ? `(${form.expression})` : form.expression;
      return this.reference(form.name);
    });
    if (parts.length === 0) return 'NOASSERTION';
    return parts.length === 1 ? (parts[0] as string).replace(/^\((.*)\)$/, '$1') : parts.join(' AND ');
  }

  /** Sorted by id, so documents do not depend on the order packages were visited. */
  infos(): ExtractedLicense[] {
    return [...this.extracted.values()].sort((a, b) =>
      a.licenseId < b.licenseId ? -1 : a.licenseId > b.licenseId ? 1 : 0,
    );
  }

  private reference(text: string): string {
    const slug = text
      .replace(/[^A-Za-z0-9.-]+/g, '-')
      .replace(/^-+|-+$/g, '')
      .slice(0, 48);
    const hash = createHash('sha256').update(text).digest('hex').slice(0, 8);
    const licenseId = `LicenseRef-${slug ? `${slug}-` : ''}${hash}`;
    if (!this.extracted.has(licenseId))
      this.extracted.set(licenseId, { licenseId, name: text.slice(0, 256), extractedText: text });
    return licenseId;
  }
}
