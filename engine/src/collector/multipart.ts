import { randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { LadingError, thrownValueText } from '../errors/lading-error.js';
import type { StreamBody } from '../http/index.js';

/** One part of a multipart/form-data body: a file streamed from disk, or bytes already in memory. */
export interface FormPart {
  /** The form field name (`metadata`, `sbom`, `report`, `attestation`, `signature`). */
  name: string;
  contentType: string;
  /** The file name sent in Content-Disposition (a label only); default the path's base name, else the part name. */
  filename?: string;
  path?: string;
  bytes?: Uint8Array;
}

export interface MultipartBody {
  contentType: string;
  body: StreamBody;
}

/** Field names and file names end up inside a quoted header: anything that could break out of it is refused. */
function headerSafe(value: string, what: string): string {
  if (!/^[\x20-\x7e]*$/.test(value) || /["\\]/.test(value)) {
    throw new LadingError('USAGE', `${what} ${JSON.stringify(value)} has characters a multipart header cannot carry`);
  }
  return value;
}

/**
 * A multipart/form-data body (RFC 7578) whose length is known before the first byte is sent (file sizes are taken
 * now), streamed part by part so a 64 MiB SBOM never sits in memory. Each `open()` starts again from the first byte;
 * a file that changed size since is caught by the server (its length no longer matches) and by the stream here.
 */
export async function multipartBody(parts: readonly FormPart[]): Promise<MultipartBody> {
  const boundary = `lading-${randomBytes(16).toString('hex')}`;
  const prepared: { head: Buffer; path?: string; bytes?: Uint8Array; size: number }[] = [];
  for (const part of parts) {
    // Every part is sent as a file (a filename present), so a server reads each as one bounded stream.
    const filename = part.filename ?? (part.path ? part.path.split(/[\\/]/).pop() : undefined) ?? part.name;
    const disposition = `form-data; name="${headerSafe(part.name, 'part name')}"; filename="${headerSafe(filename, 'file name')}"`;
    const head = Buffer.from(
      `--${boundary}\r\nContent-Disposition: ${disposition}\r\nContent-Type: ${headerSafe(part.contentType, 'content type')}\r\n\r\n`,
      'latin1',
    );
    if (part.bytes !== undefined) {
      prepared.push({ head, bytes: part.bytes, size: part.bytes.length });
    } else if (part.path !== undefined) {
      let size: number;
      try {
        const info = await stat(part.path);
        if (!info.isFile()) throw new LadingError('IO', `${part.path}: not a regular file`);
        size = info.size;
      } catch (err) {
        if (err instanceof LadingError) throw err;
        throw new LadingError('IO', `${part.path}: cannot read the ${part.name} file (${thrownValueText(err)})`, {
          cause: err,
        });
      }
      prepared.push({ head, path: part.path, size });
    } else {
      throw new LadingError('USAGE', `the ${part.name} part has neither a path nor bytes`);
    }
  }
  const crlf = Buffer.from('\r\n');
  const tail = Buffer.from(`--${boundary}--\r\n`, 'latin1');
  let length = tail.length;
  for (const p of prepared) length += p.head.length + p.size + crlf.length;

  async function* chunks(): AsyncGenerator<Uint8Array> {
    for (const p of prepared) {
      yield p.head;
      if (p.bytes !== undefined) {
        yield p.bytes;
      } else if (p.path !== undefined) {
        let sent = 0;
        for await (const chunk of createReadStream(p.path) as AsyncIterable<Buffer>) {
          sent += chunk.length;
          if (sent > p.size) break;
          yield chunk;
        }
        // The declared Content-Length is a promise: a file that shrank or grew while being sent breaks it.
        if (sent !== p.size) throw new LadingError('IO', `${p.path}: the file changed while it was being sent`);
      }
      yield crlf;
    }
    yield tail;
  }
  return {
    contentType: `multipart/form-data; boundary=${boundary}`,
    body: { size: length, open: () => Readable.from(chunks(), { objectMode: false }) },
  };
}
