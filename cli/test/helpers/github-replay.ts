// A local stand-in for the parts of GitHub the Action talks to, answering in the shapes GitHub's REST API and the
// actions cache service (v2 Twirp + signed blob URLs) use: code-scanning SARIF uploads, issue comments, issues.
// State is kept in memory and every request is recorded, so tests assert on what the Action actually sent.
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { TestContext } from 'node:test';

export interface Recorded {
  method: string;
  path: string;
  authorization?: string;
  body: Buffer;
}

export interface ReplayIssue {
  number: number;
  state: 'open' | 'closed';
  title: string;
  body: string;
  labels: string[];
  closed_at: string | null;
  comments: string[];
}

export interface GithubReplay {
  url: string;
  requests: Recorded[];
  issues: ReplayIssue[];
  /** Pull-request (issue) comments by id. */
  comments: Map<number, { issue: number; body: string }>;
  /** Cache entries by key: the archive bytes. */
  cache: Map<string, Buffer>;
  json(r: Recorded): unknown;
}

async function bodyOf(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

export async function startGithubReplay(t: Pick<TestContext, 'after'>): Promise<GithubReplay> {
  const replay: GithubReplay = {
    url: '',
    requests: [],
    issues: [],
    comments: new Map(),
    cache: new Map(),
    json: (r) => JSON.parse(r.body.toString('utf8')),
  };
  let nextComment = 1000;
  const pendingUploads = new Map<string, Buffer>();
  const server = createServer(async (req, res) => {
    const body = await bodyOf(req);
    const url = new URL(req.url ?? '/', 'http://replay');
    const path = url.pathname;
    replay.requests.push({
      method: req.method ?? 'GET',
      path: `${path}${url.search}`,
      ...(req.headers.authorization ? { authorization: req.headers.authorization } : {}),
      body,
    });
    const send = (status: number, value?: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(value === undefined ? '' : JSON.stringify(value));
    };
    const input = () => JSON.parse(body.toString('utf8') || '{}') as Record<string, unknown>;
    if (req.method === 'POST' && /^\/repos\/[^/]+\/[^/]+\/code-scanning\/sarifs$/.test(path)) {
      return send(202, { id: 'sarif-1', url: `${replay.url}${path}/sarif-1` });
    }
    const m1 = /^\/repos\/[^/]+\/[^/]+\/issues\/(\d+)\/comments$/.exec(path);
    if (m1) {
      const issue = Number(m1[1]);
      if (req.method === 'GET') {
        const list = [...replay.comments].filter(([, c]) => c.issue === issue).map(([id, c]) => ({ id, body: c.body }));
        return send(200, url.searchParams.get('page') === '1' ? list : []);
      }
      const id = nextComment++;
      const text = String(input()['body']);
      replay.comments.set(id, { issue, body: text });
      replay.issues.find((i) => i.number === issue)?.comments.push(text);
      return send(201, { id, body: text });
    }
    const m2 = /^\/repos\/[^/]+\/[^/]+\/issues\/comments\/(\d+)$/.exec(path);
    if (m2 && req.method === 'PATCH') {
      const comment = replay.comments.get(Number(m2[1]));
      if (!comment) return send(404, { message: 'Not Found' });
      comment.body = String(input()['body']);
      return send(200, { id: Number(m2[1]), body: comment.body });
    }
    if (/^\/repos\/[^/]+\/[^/]+\/issues$/.test(path)) {
      if (req.method === 'GET') {
        const label = url.searchParams.get('labels');
        const list = replay.issues.filter((i) => !label || i.labels.includes(label));
        return send(200, url.searchParams.get('page') === '1' ? list : []);
      }
      const fields = input();
      const issue: ReplayIssue = {
        number: replay.issues.length + 1,
        state: 'open',
        title: String(fields['title']),
        body: String(fields['body']),
        labels: (fields['labels'] as string[]) ?? [],
        closed_at: null,
        comments: [],
      };
      replay.issues.push(issue);
      return send(201, issue);
    }
    const m3 = /^\/repos\/[^/]+\/[^/]+\/issues\/(\d+)$/.exec(path);
    if (m3 && req.method === 'PATCH') {
      const issue = replay.issues.find((i) => i.number === Number(m3![1]));
      if (!issue) return send(404, { message: 'Not Found' });
      const fields = input();
      if (typeof fields['body'] === 'string') issue.body = fields['body'];
      if (typeof fields['title'] === 'string') issue.title = fields['title'];
      if (fields['state'] === 'closed' && issue.state === 'open') {
        issue.state = 'closed';
        issue.closed_at = new Date().toISOString();
      } else if (fields['state'] === 'open') {
        issue.state = 'open';
        issue.closed_at = null;
      }
      return send(200, issue);
    }
    // the actions cache service, v2
    const m4 = /^\/twirp\/github\.actions\.results\.api\.v1\.CacheService\/(\w+)$/.exec(path);
    if (m4) {
      const fields = input();
      if (m4[1] === 'GetCacheEntryDownloadURL') {
        const keys = [String(fields['key']), ...((fields['restore_keys'] as string[]) ?? [])];
        for (const key of keys) {
          const exact = replay.cache.has(key) ? key : undefined;
          const byPrefix = [...replay.cache.keys()]
            .filter((k) => k.startsWith(key))
            .sort()
            .pop();
          const hit = exact ?? byPrefix;
          if (hit) return send(200, { ok: true, signed_download_url: `${replay.url}/blob/${hit}`, matched_key: hit });
        }
        return send(200, { ok: false, signed_download_url: '', matched_key: '' });
      }
      if (m4[1] === 'CreateCacheEntry') {
        const key = String(fields['key']);
        if (replay.cache.has(key)) return send(409, { code: 'already_exists', msg: 'cache entry exists' });
        return send(200, { ok: true, signed_upload_url: `${replay.url}/blob/${key}` });
      }
      if (m4[1] === 'FinalizeCacheEntryUpload') {
        const key = String(fields['key']);
        const data = pendingUploads.get(key);
        if (!data || String(data.length) !== String(fields['size_bytes'])) return send(200, { ok: false });
        replay.cache.set(key, data);
        pendingUploads.delete(key);
        return send(200, { ok: true, entry_id: '1' });
      }
    }
    const m5 = /^\/blob\/(.+)$/.exec(path);
    if (m5) {
      if (req.method === 'PUT') {
        if (req.headers['x-ms-blob-type'] !== 'BlockBlob') return send(400, { message: 'x-ms-blob-type missing' });
        pendingUploads.set(m5[1]!, body);
        res.writeHead(201);
        return res.end();
      }
      const data = replay.cache.get(m5[1]!);
      if (!data) return send(404);
      res.writeHead(200, { 'content-length': data.length });
      return res.end(data);
    }
    send(404, { message: `replay: no route for ${req.method} ${path}` });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  replay.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  t.after(() => new Promise<void>((resolve) => server.close(() => resolve())));
  return replay;
}
