/**
 * Just enough XML for S3's answers (ListObjects, CopyObject, Error), which are flat and machine-written: the text
 * of named elements, entities decoded. Not a general parser; nothing here is given user-authored XML.
 */

/** The text of every `<name>…</name>` in `xml` (no attributes on S3's elements, no nesting of the same name). */
export function elementTexts(xml: string, name: string): string[] {
  const out: string[] = [];
  const open = `<${name}>`;
  const close = `</${name}>`;
  let at = 0;
  for (;;) {
    const start = xml.indexOf(open, at);
    if (start < 0) return out;
    const end = xml.indexOf(close, start + open.length);
    if (end < 0) return out;
    out.push(xml.slice(start + open.length, end));
    at = end + close.length;
  }
}

export function elementText(xml: string, name: string): string | undefined {
  const [first] = elementTexts(xml, name);
  return first === undefined ? undefined : decodeEntities(first);
}

export function decodeEntities(text: string): string {
  return text.replace(/&(amp|lt|gt|quot|apos|#\d+|#x[0-9a-fA-F]+);/g, (_, entity: string) => {
    switch (entity) {
      case 'amp':
        return '&';
      case 'lt':
        return '<';
      case 'gt':
        return '>';
      case 'quot':
        return '"';
      case 'apos':
        return "'";
      default: {
        const code = entity.startsWith('#x') ? Number.parseInt(entity.slice(2), 16) : Number(entity.slice(1));
        return code <= 0x10ffff ? String.fromCodePoint(code) : '\uFFFD';
      }
    }
  });
}
