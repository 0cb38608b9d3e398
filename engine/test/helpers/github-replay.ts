// A local replay of the parts of GitHub's REST API Lading uses (issues, issue comments, repository_dispatch), answering in
// GitHub's shapes, keeping state in memory and recording every request, so tests assert on what was actually sent.
// `dropNextResponse(method, pathPattern)` processes the next matching request and then cuts the connection without
// an answer: the caller cannot know its POST landed (a crash between the POST and its record).
import { createServer, type Server } from 'node:http';

export interface ReplayRequest {
  method: string;
  path: string;
  authorization?: string;
  body: string;
}

export interface ReplayIssue {
  number: number;
  state: 'open' | 'closed';
  title: string;
  body: string;
  labels: string[];
  closed_at: string | null;
  comments: { id: number; body: string }[];
}

export interface GithubIssueReplay {
  url: string;
  requests: ReplayRequest[];
  issues: ReplayIssue[];
  dropNextResponse(method: string, path: RegExp): void;
  close(): Promise<void>;
}

export async function startGithubIssueReplay(prefix = ''): Promise<GithubIssueReplay> {
  const requests: ReplayRequest[] = [];
  const issues: ReplayIssue[] = [];
  let drop: { method: string; path: RegExp } | undefined;
  let nextComment = 5000;
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      const url = new URL(req.url ?? '/', 'http://replay');
      const method = req.method ?? 'GET';
      requests.push({
        method,
        path: `${url.pathname}${url.search}`,
        ...(req.headers.authorization ? { authorization: req.headers.authorization } : {}),
        body,
      });
      const dropThis = drop !== undefined && drop.method === method && drop.path.test(url.pathname);
      if (dropThis) drop = undefined;
      const send = (status: number, value: unknown) => {
        if (dropThis) {
          req.socket.destroy();
          return;
        }
        res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(value));
      };
      if (!url.pathname.startsWith(prefix)) return send(404, { message: 'Not Found' });
      const path = url.pathname.slice(prefix.length);
      const input = () => JSON.parse(body || '{}') as Record<string, unknown>;
      const page = Number(url.searchParams.get('page') ?? '1');
      const perPage = Number(url.searchParams.get('per_page') ?? '30');
      const paged = <T>(list: T[]) => list.slice((page - 1) * perPage, page * perPage);
      if (method === 'POST' && /^\/repos\/[^/]+\/[^/]+\/dispatches$/.test(path)) {
        // repository_dispatch: 204 No Content (the request itself is what tests look at)
        if (dropThis) return req.socket.destroy();
        return res.writeHead(204).end();
      }
      const comments = /^\/repos\/[^/]+\/[^/]+\/issues\/(\d+)\/comments$/.exec(path);
      if (comments) {
        const issue = issues.find((i) => i.number === Number(comments[1]));
        if (!issue) return send(404, { message: 'Not Found' });
        if (method === 'GET') return send(200, paged(issue.comments));
        const comment = { id: nextComment++, body: String(input().body) };
        issue.comments.push(comment);
        return send(201, comment);
      }
      if (/^\/repos\/[^/]+\/[^/]+\/issues$/.test(path)) {
        if (method === 'GET') {
          const label = url.searchParams.get('labels');
          return send(200, paged(issues.filter((i) => !label || i.labels.includes(label))));
        }
        const fields = input();
        const issue: ReplayIssue = {
          number: issues.length + 1,
          state: 'open',
          title: String(fields.title),
          body: String(fields.body),
          labels: (fields.labels as string[]) ?? [],
          closed_at: null,
          comments: [],
        };
        issues.push(issue);
        return send(201, issue);
      }
      const one = /^\/repos\/[^/]+\/[^/]+\/issues\/(\d+)$/.exec(path);
      if (one && method === 'PATCH') {
        const issue = issues.find((i) => i.number === Number(one[1]));
        if (!issue) return send(404, { message: 'Not Found' });
        const fields = input();
        if (typeof fields.body === 'string') issue.body = fields.body;
        if (typeof fields.title === 'string') issue.title = fields.title;
        if (fields.state === 'closed' && issue.state === 'open') {
          issue.state = 'closed';
          issue.closed_at = new Date().toISOString();
        } else if (fields.state === 'open') {
          issue.state = 'open';
          issue.closed_at = null;
        }
        return send(200, issue);
      }
      return send(404, { message: 'Not Found' });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('the replay has no port');
  return {
    url: `http://127.0.0.1:${address.port}${prefix}`,
    requests,
    issues,
    dropNextResponse(method, path) {
      drop = { method, path };
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
