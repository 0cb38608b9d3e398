/**
 * Why an ingest request is refused, as the problem document will say it (RFC 9457): the HTTP status, a title, a
 * one-line detail and the bundle part it is about. The ingest modules throw it; the route turns it into the app's
 * problem+json answer. Nothing is kept of a refused bundle: a push's staged parts are removed; a pull's blobs stored before the refusal stay as orphans, for blob GC.
 */
export class IngestRefusal extends Error {
  constructor(
    readonly status: 400 | 403 | 413 | 415 | 422,
    readonly title: string,
    readonly detail: string,
    /** The part the refusal is about (`metadata`, `sbom`, `report`, …), when it is about one. */
    readonly part?: string,
  ) {
    super(detail);
    this.name = 'IngestRefusal';
  }
}

export const TITLES = {
  400: 'Bad Request',
  403: 'Forbidden',
  413: 'Content Too Large',
  415: 'Unsupported Media Type',
  422: 'Unprocessable Content',
} as const;

export function refuse(status: IngestRefusal['status'], detail: string, part?: string): IngestRefusal {
  return new IngestRefusal(status, TITLES[status], oneLine(detail), part);
}

/** Client-supplied words inside a detail: control characters out, length bounded. */
export function oneLine(text: string): string {
  const flat = text.replace(/[\u0000-\u001f\u007f]+/g, ' ').trim();
  return flat.length > 300 ? `${flat.slice(0, 297)}...` : flat;
}
