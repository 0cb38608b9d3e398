// The server's deployment files, checked structurally (no container daemon or cluster runs where the tests do):
// server/Dockerfile and the Kubernetes manifests in deploy/kubernetes/. What a reviewer would check by eye, held by
// a test so it stays true: pinned bases, non-root, read-only root filesystem with the writable paths mounted, probes
// on /healthz and /readyz, roles, and configuration names the server really reads.
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { parseAllDocuments } from 'yaml';
import { REPO_ROOT } from '../../engine/test/helpers/cli.js';
import { SERVER_ROLES } from '../src/config.js';

interface Instruction {
  readonly line: number;
  readonly keyword: string;
  readonly args: string;
}

/** Dockerfile instructions, continuation lines joined and comments dropped (enough for this file's syntax). */
function parseDockerfile(text: string): Instruction[] {
  const out: Instruction[] = [];
  let pending = '';
  let start = 0;
  text.split('\n').forEach((raw, i) => {
    const line = raw.trim();
    if (line.startsWith('#') || (!pending && line === '')) return;
    if (!pending) start = i + 1;
    pending += pending ? ` ${line}` : line;
    if (pending.endsWith('\\')) {
      pending = pending.slice(0, -1).trimEnd();
      return;
    }
    const m = /^(\S+)\s*(.*)$/.exec(pending)!;
    out.push({ line: start, keyword: m[1]!.toUpperCase(), args: m[2]! });
    pending = '';
  });
  return out;
}

/** `.dockerignore` patterns as prefixes and `**` globs (the subset the file uses). */
function ignoredBy(patterns: readonly string[], path: string): boolean {
  const clean = path.replace(/^\.\//, '').replace(/\/$/, '');
  return patterns.some((p) =>
    new RegExp(
      `^${p
        .replace(/[.+^${}()|[\]]/g, '\\$&')
        .replace(/\*\*\//g, '(?:.*/)?')
        .replace(/\*/g, '[^/]*')}(?:/.*)?$`,
    ).test(clean),
  );
}

const DOCKERFILE = parseDockerfile(readFileSync(join(REPO_ROOT, 'server/Dockerfile'), 'utf8'));
const STAGES: Instruction[][] = [];
for (const ins of DOCKERFILE) {
  if (ins.keyword === 'FROM') STAGES.push([]);
  STAGES.at(-1)?.push(ins);
}
const RUNTIME = STAGES.at(-1)!;
const IGNORE = readFileSync(join(REPO_ROOT, '.dockerignore'), 'utf8')
  .split('\n')
  .map((l) => l.trim())
  .filter((l) => l && !l.startsWith('#'));
/** The environment variables the server reads (config.ts is the only reader: `env.NAME`). */
const SERVER_ENV = new Set(
  [...readFileSync(join(REPO_ROOT, 'server/src/config.ts'), 'utf8').matchAll(/\benv\.(LADING_[A-Z0-9_]+)/g)].map(
    (m) => m[1]!,
  ),
);

describe('server/Dockerfile (checked structurally: no image is built here)', () => {
  it('is multi-stage from an exactly pinned Node 20 base, and installs with npm ci from the lock file', () => {
    assert.ok(STAGES.length >= 2);
    const names = new Set(STAGES.map((s) => /\bAS\s+(\S+)/i.exec(s[0]!.args)?.[1]).filter(Boolean));
    for (const stage of STAGES) {
      const image = stage[0]!.args.split(/\s+/).find((w) => !w.startsWith('--'))!;
      if (names.has(image)) continue;
      assert.match(image, /^node:20\.\d+\.\d+-[a-z0-9-]+$|@sha256:[0-9a-f]{64}$/, `line ${stage[0]!.line}: ${image}`);
    }
    const runs = DOCKERFILE.filter((i) => i.keyword === 'RUN').map((i) => i.args);
    assert.ok(runs.some((r) => /\bnpm ci\b/.test(r)));
    assert.ok(
      runs.some((r) => /\bnpm run build\b/.test(r)),
      'the engine (dist) and the dashboard are built',
    );
    // npm ci of the workspace needs every workspace's package.json before it runs
    const workspaces = (JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as { workspaces: string[] })
      .workspaces;
    const ci = DOCKERFILE.findIndex((i) => i.keyword === 'RUN' && /\bnpm ci\b/.test(i.args));
    const copiedBefore = DOCKERFILE.slice(0, ci)
      .filter((i) => i.keyword === 'COPY')
      .map((i) => i.args);
    for (const w of ['', ...workspaces.map((w) => `${w}/`)]) {
      assert.ok(
        copiedBefore.some((c) => c.startsWith(`${w}package.json`)),
        `${w}package.json is copied before npm ci`,
      );
    }
  });

  it('runs lading-server start as a non-root user, in exec form, with no compilers or package manager at runtime', () => {
    const user = RUNTIME.filter((i) => i.keyword === 'USER').at(-1);
    assert.ok(user && !/^(root|0)(:|$)/.test(user.args.trim()), 'the runtime stage sets a non-root USER');
    const entrypoint = JSON.parse(RUNTIME.find((i) => i.keyword === 'ENTRYPOINT')!.args) as string[];
    assert.equal(entrypoint[0], 'node', 'exec form, so SIGTERM reaches Node');
    assert.ok(entrypoint[1]?.endsWith('/server/bin/lading-server.mjs'));
    assert.deepEqual(JSON.parse(RUNTIME.find((i) => i.keyword === 'CMD')!.args), ['start']);
    for (const run of RUNTIME.filter((i) => i.keyword === 'RUN')) {
      assert.doesNotMatch(run.args, /apt-get|npm |g\+\+|make/, `line ${run.line}: no installs in the runtime stage`);
    }
    const env = RUNTIME.filter((i) => i.keyword === 'ENV')
      .map((i) => i.args)
      .join(' ');
    assert.match(env, /LADING_LISTEN=0\.0\.0\.0:8080/, 'listens beyond loopback inside the container');
    assert.match(env, /LADING_DATA_DIR=\/var\/lib\/lading/);
    assert.ok(RUNTIME.some((i) => i.keyword === 'VOLUME' && i.args.includes('/var/lib/lading')));
    assert.ok(RUNTIME.some((i) => i.keyword === 'EXPOSE' && i.args.trim() === '8080'));
    assert.match(RUNTIME.find((i) => i.keyword === 'HEALTHCHECK')?.args ?? '', /\/healthz/);
    for (const [, name] of env.matchAll(/\b(LADING_[A-Z_]+)=/g)) assert.ok(SERVER_ENV.has(name!), `${name} is read`);
  });

  it('fetches nothing with ADD, and copies only sources that exist and the build context keeps', () => {
    assert.equal(DOCKERFILE.filter((i) => i.keyword === 'ADD').length, 0);
    for (const copy of DOCKERFILE.filter((i) => i.keyword === 'COPY')) {
      const words = copy.args.split(/\s+/);
      if (words.some((w) => w.startsWith('--from='))) continue;
      for (const source of words.filter((w) => !w.startsWith('--')).slice(0, -1)) {
        assert.ok(existsSync(join(REPO_ROOT, source)), `line ${copy.line}: ${source} does not exist`);
        assert.ok(!ignoredBy(IGNORE, source), `line ${copy.line}: ${source} is excluded by .dockerignore`);
      }
    }
    for (const needed of [
      'server/bin/lading-server.mjs',
      'server/src/main.ts',
      'server/openapi/lading.yaml',
      'server/src/db/migrations/0001_initial.ts',
      'dashboard/src',
    ]) {
      assert.ok(existsSync(join(REPO_ROOT, needed)), `${needed} exists`);
      assert.ok(!ignoredBy(IGNORE, needed), `${needed} is excluded by .dockerignore`);
    }
  });
});

type Manifest = Record<string, unknown> & { kind: string; metadata: { name: string; labels?: Record<string, string> } };
// biome-ignore lint/suspicious/noExplicitAny: manifests are walked as plain parsed YAML
type Any = any;

const K8S_DIR = join(REPO_ROOT, 'deploy/kubernetes');
const MANIFESTS: { file: string; doc: Manifest }[] = readdirSync(K8S_DIR)
  .filter((f) => f.endsWith('.yaml'))
  .flatMap((file) =>
    parseAllDocuments(readFileSync(join(K8S_DIR, file), 'utf8')).map((d) => {
      assert.equal(d.errors.length, 0, `${file}: ${d.errors[0]?.message}`);
      return { file, doc: d.toJS() as Manifest };
    }),
  );
const byKind = (kind: string) => MANIFESTS.filter((m) => m.doc.kind === kind);

describe('deploy/kubernetes (checked structurally: no cluster here)', () => {
  const deployments = byKind('Deployment');
  const secret = byKind('Secret')[0]?.doc as Any;
  const configMap = byKind('ConfigMap')[0]?.doc as Any;

  it('kustomization lists every manifest but the example Secret, and each listed file exists', () => {
    const kustomization = byKind('Kustomization')[0]?.doc as Any;
    assert.ok(kustomization);
    const listed = new Set<string>(kustomization.resources);
    for (const file of listed) assert.ok(existsSync(join(K8S_DIR, file)), `${file} exists`);
    assert.ok(!listed.has('secret.example.yaml'), 'real secrets are created out of band, never applied from git');
    for (const { file } of MANIFESTS) {
      if (file !== 'kustomization.yaml' && file !== 'secret.example.yaml') assert.ok(listed.has(file), file);
    }
  });

  it('has an API and a worker Deployment, each starting its role', () => {
    const roles = deployments.map((d) => {
      const args = (d.doc as Any).spec.template.spec.containers[0].args as string[];
      assert.equal(args[0], 'start');
      const role = args[args.indexOf('--role') + 1]!;
      assert.ok(SERVER_ROLES.includes(role as never), `${d.file}: role ${role}`);
      return role;
    });
    assert.deepEqual(roles.sort(), ['api', 'worker']);
  });

  for (const { file, doc } of deployments) {
    const spec = (doc as Any).spec;
    const pod = spec.template.spec;
    const container = pod.containers[0];

    it(`${file}: selector matches the pod labels; probes on /healthz and /readyz at the port it listens on`, () => {
      for (const [k, v] of Object.entries(spec.selector.matchLabels)) assert.equal(spec.template.metadata.labels[k], v);
      const listen = container.env.find((e: Any) => e.name === 'LADING_LISTEN').value as string;
      const port = container.ports.find((p: Any) => p.name === 'http');
      assert.equal(Number(listen.split(':').at(-1)), port.containerPort);
      assert.equal(listen.split(':')[0], '0.0.0.0', 'reachable from the kubelet and the Service');
      assert.equal(container.livenessProbe.httpGet.path, '/healthz');
      assert.equal(container.readinessProbe.httpGet.path, '/readyz');
      assert.equal(container.startupProbe.httpGet.path, '/healthz');
      for (const probe of [container.livenessProbe, container.readinessProbe, container.startupProbe]) {
        assert.equal(probe.httpGet.port, 'http');
      }
    });

    it(`${file}: non-root, no privilege escalation, no capabilities, read-only root with its writable paths mounted`, () => {
      assert.equal(pod.securityContext.runAsNonRoot, true);
      assert.notEqual(pod.securityContext.runAsUser, 0);
      assert.equal(pod.securityContext.seccompProfile.type, 'RuntimeDefault');
      assert.equal(pod.automountServiceAccountToken, false);
      assert.equal(container.securityContext.readOnlyRootFilesystem, true);
      assert.equal(container.securityContext.allowPrivilegeEscalation, false);
      assert.deepEqual(container.securityContext.capabilities.drop, ['ALL']);
      const volumes = new Set(pod.volumes.map((v: Any) => v.name));
      const mounted = new Map<string, string>(container.volumeMounts.map((m: Any) => [m.mountPath, m.name]));
      for (const name of mounted.values()) assert.ok(volumes.has(name), `volume ${name} is defined`);
      const dataDir = container.env.find((e: Any) => e.name === 'LADING_DATA_DIR').value;
      assert.ok(mounted.has(dataDir), 'the data directory is writable');
      assert.ok(mounted.has('/tmp'), 'the OS temp folder is writable');
      assert.ok(container.resources.limits.memory, 'a memory limit');
    });

    it(`${file}: PostgreSQL and S3 settings come from the Secret and the ConfigMap, names the server reads`, () => {
      const from = container.envFrom as Any[];
      assert.ok(from.some((f) => f.secretRef?.name === secret.metadata.name));
      assert.ok(from.some((f) => f.configMapRef?.name === configMap.metadata.name));
      for (const e of container.env) assert.ok(SERVER_ENV.has(e.name), `${e.name} is read by the server`);
      assert.ok(!container.env.some((e: Any) => /DATABASE_URL|SECRET|ACCESS_KEY/.test(e.name)), 'no secret inline');
    });
  }

  it('the Secret carries the database URL, the shared secret key and the S3 credentials; the ConfigMap an s3:// store', () => {
    const keys = Object.keys(secret.stringData).sort();
    assert.deepEqual(keys, [
      'LADING_DATABASE_URL',
      'LADING_S3_ACCESS_KEY_ID',
      'LADING_S3_SECRET_ACCESS_KEY',
      'LADING_SECRET_KEY',
    ]);
    assert.match(secret.stringData.LADING_DATABASE_URL, /^postgres:\/\//);
    for (const key of [...keys, ...Object.keys(configMap.data)]) assert.ok(SERVER_ENV.has(key), `${key} is read`);
    // several pods need one shared blob store
    assert.match(configMap.data.LADING_BLOBS, /^s3:\/\//);
  });

  it('the Service sends traffic to the API pods only, on their http port', () => {
    const service = byKind('Service')[0]?.doc as Any;
    const api = deployments.find(
      (d) => (d.doc as Any).spec.template.metadata.labels['app.kubernetes.io/component'] === 'api',
    );
    const worker = deployments.find((d) => d !== api);
    const matches = (d: Any) =>
      Object.entries(service.spec.selector).every(([k, v]) => d.spec.template.metadata.labels[k] === v);
    assert.ok(api && matches(api.doc));
    assert.ok(worker && !matches(worker.doc));
    assert.equal(service.spec.ports[0].targetPort, 'http');
  });
});
