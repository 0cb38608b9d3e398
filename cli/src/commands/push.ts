import { LadingError } from '@lading/engine/errors';
import type { Command } from 'commander';
import { withDeadline } from '../deadline.js';
import { serverFrom, serverTokenFrom } from '../environment.js';
import { collect } from '../output.js';

interface PushFlags {
  server?: string;
  pull?: string;
  sbom?: string;
  report?: string;
  attestation: string[];
  signature: string[];
  repository?: string;
  digest?: string;
  tag: string[];
  platform?: string;
  track?: string;
  wait: boolean;
  json?: boolean;
}

const DIGEST = /^sha256:[0-9a-f]{64}$/;

export function registerPush(program: Command): void {
  program
    .command('push')
    .description("send an image's evidence to a lading-server, or ask it to pull the evidence from the registry")
    .option(
      '--server <url>',
      'the lading-server, e.g. https://lading.example.com (env LADING_SERVER); token from LADING_SERVER_TOKEN',
    )
    .option(
      '--pull <image@digest>',
      'notify-and-pull: the server reads the image, its signatures and attestations itself',
    )
    .option('--sbom <file>', 'CycloneDX or SPDX JSON SBOM of the image')
    .option('--report <file>', 'Lading JSON report of the image (lading scan -o json)')
    .option('--attestation <file>', 'DSSE envelope or Sigstore bundle (repeatable)', collect, [])
    .option('--signature <file>', 'cosign simple-signing signature {payload, signature} (repeatable)', collect, [])
    .option('--repository <name>', "the image's repository, e.g. ghcr.io/acme/api (default: the report's)")
    .option('--digest <sha256:…>', "the image's manifest digest (default: the report's)")
    .option('--tag <tag>', 'a tag the image was pushed with (repeatable)', collect, [])
    .option('--platform <os/arch>', "the image's platform (default: the report's)")
    .option('--track <name>', 'the release track the image belongs to (default: the server\'s "default")')
    .option('--no-wait', 'return once the server accepted the bundle, without waiting for its ingest job')
    .option('--json', "print the server's answer (and the job's final state) as JSON")
    .action(async (flags: PushFlags) => {
      const server = { url: serverFrom(flags.server, process.env) ?? '', token: serverTokenFrom(process.env) ?? '' };
      if (!server.url) throw new LadingError('USAGE', 'push needs --server URL (or LADING_SERVER)');
      if (!server.token) throw new LadingError('USAGE', 'push needs an API token in LADING_SERVER_TOKEN');
      const files = [flags.sbom, flags.report, ...flags.attestation, ...flags.signature].filter(Boolean);
      if (flags.pull && files.length > 0) {
        throw new LadingError('USAGE', 'push takes --pull or evidence files (--sbom, --report, …), not both');
      }
      if (!flags.pull && files.length === 0) {
        throw new LadingError(
          'USAGE',
          'push needs --pull IMAGE@DIGEST or evidence files (--sbom, --report, --attestation, --signature)',
        );
      }
      if (flags.digest !== undefined && !DIGEST.test(flags.digest)) {
        throw new LadingError('USAGE', `--digest ${flags.digest}: expected sha256:<64 hex digits>`);
      }
      const { pushBundle, requestPull, jobFailure } = await import('@lading/engine/collector');
      const interrupt = new AbortController();
      const onSigint = () => interrupt.abort();
      process.once('SIGINT', onSigint);
      const options = { wait: flags.wait, signal: withDeadline(interrupt.signal) };
      try {
        const outcome = flags.pull
          ? await requestPull({ server, image: flags.pull, ...(flags.tag.length ? { tags: flags.tag } : {}) }, options)
          : await pushBundle(
              {
                server,
                metadata: await metadataFrom(flags),
                parts: [
                  ...(flags.sbom ? [{ name: 'sbom' as const, path: flags.sbom }] : []),
                  ...(flags.report ? [{ name: 'report' as const, path: flags.report }] : []),
                  ...flags.attestation.map((path) => ({ name: 'attestation' as const, path })),
                  ...flags.signature.map((path) => ({ name: 'signature' as const, path })),
                ],
              },
              options,
            );
        if (flags.json) process.stdout.write(`${JSON.stringify(outcome, null, 2)}\n`);
        else process.stdout.write(`${describeOutcome(outcome)}\n`);
        const failure = outcome.job ? jobFailure(outcome.job) : undefined;
        if (failure) throw failure;
      } finally {
        process.removeListener('SIGINT', onSigint);
      }
    });
}

/**
 * The metadata part: each flag, else what the Lading report says about its target (digest, repository, platform).
 * Without a report, --repository and --digest are needed: an SBOM does not reliably name the manifest digest.
 */
async function metadataFrom(flags: PushFlags): Promise<import('@lading/engine/collector').IngestMetadata> {
  let fromReport: { repository?: string; digest?: string; platform?: string } = {};
  if (flags.report) {
    const { loadReport } = await import('@lading/engine/report');
    const target = (await loadReport(flags.report)).target;
    fromReport = {
      ...(target.kind === 'image' ? { repository: repositoryOf(target.ref) } : {}),
      ...(target.digest ? { digest: target.digest } : {}),
      ...(target.platform ? { platform: target.platform } : {}),
    };
  }
  const repository = flags.repository ?? fromReport.repository;
  const digest = flags.digest ?? fromReport.digest;
  if (!repository)
    throw new LadingError('USAGE', 'push needs --repository (the report does not name a registry image)');
  if (!digest) throw new LadingError('USAGE', 'push needs --digest (the report does not give the manifest digest)');
  const platform = flags.platform ?? fromReport.platform;
  return {
    repository,
    digest,
    ...(platform ? { platform } : {}),
    ...(flags.tag.length ? { tags: flags.tag } : {}),
    ...(flags.track ? { track: flags.track } : {}),
  };
}

/**
 * `ghcr.io/acme/api:1.4@sha256:…` → `ghcr.io/acme/api`; undefined for targets that are no registry reference
 * (`oci:dir`, `docker-archive:file.tar`).
 */
export function repositoryOf(ref: string): string | undefined {
  if (/^(oci|oci-archive|docker-archive|dir|rootfs|sbom):/.test(ref)) return undefined;
  const name = ref.split('@')[0] ?? '';
  const lastSlash = name.lastIndexOf('/');
  const colon = name.indexOf(':', lastSlash + 1);
  return colon === -1 ? name : name.slice(0, colon);
}

function describeOutcome(outcome: import('@lading/engine/collector').IngestOutcome): string {
  const { accepted, job } = outcome;
  const head = `${accepted.image.digest}: ${accepted.replayed ? 'already ingested' : 'accepted'} (job ${accepted.job.id})`;
  if (!job) return head;
  const result = (job.result ?? {}) as {
    counts?: Record<string, number>;
    evidence?: { state?: string; score?: number; max?: number };
  };
  const counts = result.counts
    ? ` · ${['critical', 'high', 'medium', 'low', 'unknown'].map((s) => `${s} ${result.counts?.[s] ?? 0}`).join(', ')}`
    : '';
  const evidence = result.evidence?.state
    ? ` · evidence ${result.evidence.state}${result.evidence.max ? ` ${result.evidence.score ?? 0}/${result.evidence.max}` : ''}`
    : '';
  return `${head}: ${job.state}${counts}${evidence}`;
}
