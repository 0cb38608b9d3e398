import { LadingError } from '@lading/engine/errors';
import type { Command } from 'commander';
import { autoUpdater } from '../data-update.js';
import { withDeadline } from '../deadline.js';
import {
  allowMissingDataFrom,
  dbDirFrom,
  dockerConfigPathFrom,
  imageOptionsFrom,
  offlineFrom,
  pipelineSettingsFrom,
  s3SettingsFrom,
  serverTokenFrom,
  skipDbUpdateFrom,
  sourceDateEpochFrom,
} from '../environment.js';
import { collect, printGateLines, printWarnings } from '../output.js';
import { signingKeySource } from '../password.js';

interface PipelineFlags {
  image: string;
  tag: string[];
  platform?: string;
  failOn?: string;
  policy?: string;
  baseline?: string;
  baselineSeverity: string;
  key?: string;
  push?: boolean;
  store?: string;
  storeLayout: string;
  notify?: string;
  notifyRequired?: boolean;
  out: string;
  dryRun?: boolean;
  patch: string;
  patchMirror?: string;
  flatten?: boolean;
  insecureRegistry: string[];
  dbDir?: string;
  offline?: boolean;
  allowMissingData?: boolean;
  skipDbUpdate?: boolean;
  json?: boolean;
  quiet?: boolean;
}

export function registerPipeline(program: Command): void {
  program
    .command('pipeline')
    .description(
      'one CI step: read and verify a build output, scan and gate it, write SBOMs and provenance, sign everything, ' +
        'push signatures and attestations before the image and the tags last, store and report it',
    )
    .argument('<source>', 'oci:DIR, oci-archive:FILE, docker-archive:FILE, or registry:REF@sha256:DIGEST')
    .requiredOption('--image <registry/repository>', 'where the image is pushed (no tag: see --tag)')
    .option('--tag <tag>', 'tag moved to the digest once everything else is done, repeatable', collect, [])
    .option(
      '--platform <os/arch|all>',
      'platform of a multi-platform image, or all of them (the default; env LADING_PLATFORM)',
    )
    .option('--fail-on <severity>', 'stop (exit 1, nothing pushed) when a finding at or above this severity remains')
    .option('--policy <file>', 'policy file (YAML or JSON): a failed rule stops the pipeline (exit 1)')
    .option('--baseline <report>', 'earlier JSON report: a new CRITICAL or more findings stop the pipeline')
    .option('--baseline-severity <severity>', 'threshold for the baseline count', 'high')
    .option('--key <key>', 'signing key: file path or env://VAR (env LADING_KEY; password LADING_PASSWORD)')
    .option('--push', 'write to the registry: signatures, attestations, the image by digest, then the tags')
    .option('--store <url>', 'object storage for the artifacts: file://DIR or s3://bucket/prefix (env LADING_STORE)')
    .option('--store-layout <layout>', 'seed004, digest or both', 'both')
    .option('--notify <url>', 'lading-server to send the report to (env LADING_SERVER; token LADING_SERVER_TOKEN)')
    .option('--notify-required', 'fail (exit 3) when the server cannot be told, instead of spooling with a warning')
    .option('--out <dir>', 'staging directory: reports, SARIF, SBOMs, provenance, signatures', '.lading/pipeline')
    .option('--dry-run', 'do everything local (scan, SBOMs, provenance, signatures) and write nothing remote')
    .option(
      '--patch <mode>',
      'off; plan (write patch-plan.json: the package updates that fix the findings); apply (install those that need no maintainer scripts as one layer, then go on with the patched image)',
      'off',
    )
    .option('--patch-mirror <url>', "package repository to patch from instead of the image's own sources")
    .option('--flatten', 'flatten the image to one layer (after patching; the provenance keeps the input image)')
    .option('--insecure-registry <host>', 'allow plain HTTP to this registry, repeatable', collect, [])
    .option('--db-dir <dir>', 'vulnerability database folder (env LADING_DB_DIR)')
    .option('--offline', 'never fetch vulnerability data (env LADING_OFFLINE=1)')
    .option('--allow-missing-data', 'match what there is data for (the gate then fails on the rest)')
    .option('--skip-db-update', 'use the local vulnerability data as it is (env LADING_SKIP_DB_UPDATE=1)')
    .option('--json', 'print the result (also written to OUT/pipeline.json) on standard output')
    .option('-q, --quiet', 'no progress on stderr')
    .action(async (source: string, flags: PipelineFlags) => {
      await runPipelineCommand(source, flags);
    });
}

async function runPipelineCommand(source: string, flags: PipelineFlags): Promise<void> {
  const env = process.env;
  const settings = pipelineSettingsFrom(flags, env);
  if (!settings.key) throw new LadingError('USAGE', 'the pipeline signs what it produces: give --key (or LADING_KEY)');
  const patch = flags.patch;
  if (patch !== 'off' && patch !== 'plan' && patch !== 'apply') {
    throw new LadingError('USAGE', `--patch ${patch}: choose off, plan or apply`);
  }
  const layout = flags.storeLayout;
  if (layout !== 'seed004' && layout !== 'digest' && layout !== 'both') {
    throw new LadingError('USAGE', `--store-layout ${layout}: choose seed004, digest or both`);
  }
  const [{ runPipeline }, attest, { parseSeverity }, { scan }] = await Promise.all([
    import('@lading/engine/pipeline'),
    import('@lading/engine/attest'),
    import('@lading/engine/policy'),
    import('@lading/engine/scan'),
  ]);
  // Inputs that can be wrong are read first: a typo or a wrong password fails before the scan, with exit 2.
  const failOn = flags.failOn ? parseSeverity(flags.failOn) : undefined;
  const baselineSeverity = parseSeverity(flags.baselineSeverity);
  const policy = flags.policy ? await (await import('@lading/engine/policy')).loadPolicy(flags.policy) : undefined;
  const baseline = flags.baseline
    ? await (await import('@lading/engine/report')).loadReport(flags.baseline)
    : undefined;
  const signingKey = await attest.loadSigningKey(settings.key, signingKeySource(env));
  const store = settings.store && !flags.dryRun ? await openStore(settings.store, env) : undefined;
  const notifier = settings.notify && !flags.dryRun ? await collectorNotifier(settings.notify, env) : undefined;
  const registry = attest.attachmentRegistry({
    insecureRegistries: flags.insecureRegistry,
    dockerConfigPath: dockerConfigPathFrom(env),
  });

  // The one clock reading the verdict and the provenance's startedOn share.
  const now = new Date();
  const dbDir = dbDirFrom(flags.dbDir, env);
  const offline = offlineFrom(flags.offline, env);
  const interrupt = new AbortController();
  const onSigint = () => interrupt.abort();
  process.once('SIGINT', onSigint);
  const signal = withDeadline(interrupt.signal);
  const epoch = sourceDateEpochFrom(env);
  try {
    const result = await runPipeline(
      {
        source,
        image: flags.image,
        tags: flags.tag,
        platform: imageOptionsFrom({ ...(flags.platform ? { platform: flags.platform } : {}) }, env).platform ?? 'all',
        ...(failOn ? { failOn } : {}),
        ...(policy ? { policy } : {}),
        ...(baseline ? { baseline } : {}),
        baselineSeverity,
        push: !!flags.push,
        dryRun: !!flags.dryRun,
        flatten: !!flags.flatten,
        patch,
        ...(flags.patchMirror ? { patchMirror: flags.patchMirror } : {}),
        registryAccess: { insecureRegistries: flags.insecureRegistry, dockerConfigPath: dockerConfigPathFrom(env) },
        outDir: flags.out,
        storeLayout: layout,
        notifyRequired: !!flags.notifyRequired,
        startedOn: now,
        ...(epoch ? { sourceDateEpoch: epoch.getTime() / 1000 } : {}),
        signal,
        ...(flags.quiet ? {} : { onEvent: (e) => process.stderr.write(`lading: ${e.step}: ${e.message}\n`) }),
      },
      {
        scan: (target, options) =>
          scan(target, {
            dbDir,
            offline,
            allowMissingData: allowMissingDataFrom(flags.allowMissingData, env),
            ...(!skipDbUpdateFrom(flags.skipDbUpdate, env)
              ? { prepareData: autoUpdater({ dbDir, env, now, quiet: !!flags.quiet }) }
              : {}),
            insecureRegistries: flags.insecureRegistry,
            dockerConfigPath: dockerConfigPathFrom(env),
            ...(options.signal ? { signal: options.signal } : {}),
            now,
          }),
        registry,
        signingKey,
        buildContext: attest.detectBuildContext(env, attest.probeGit, process.cwd()),
        clock: () => new Date(),
        ...(store ? { store } : {}),
        ...(notifier ? { notifier } : {}),
      },
    );
    printWarnings(result.warnings, flags);
    for (const p of result.platforms) {
      if (!p.pass) printGateLines(p.reasons.map((r) => `${p.platform}: ${r}`));
    }
    if (flags.json) process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
    else if (!flags.quiet) {
      const verdict =
        result.status === 'gate-failed'
          ? 'gate failed: nothing pushed, uploaded or notified'
          : `${result.image}@${result.digest}${result.tags.length ? ` (${result.tags.join(', ')})` : ''}`;
      process.stderr.write(`lading: pipeline: ${verdict}; see ${flags.out}/pipeline.json\n`);
    }
    if (result.status === 'gate-failed') process.exitCode = 1;
  } finally {
    process.removeListener('SIGINT', onSigint);
  }
}

type Environment = Readonly<Record<string, string | undefined>>;

/** `@lading/engine/objects` as the pipeline's store: immutable keys are written only when absent. */
async function openStore(url: string, env: Environment) {
  const { openObjectStore } = await import('@lading/engine/objects');
  const s3 = s3SettingsFrom(env);
  const objects = openObjectStore(url, { option: 'store', ...(s3 ? { s3 } : {}) });
  return {
    describe: () => objects.url,
    exists: async (key: string) => (await objects.head(key)) !== undefined,
    put: async (object: { key: string; bytes: Buffer; contentType: string }, options: { ifAbsent: boolean }) => {
      if (options.ifAbsent && (await objects.head(object.key)) !== undefined) return false;
      await objects.put(object.key, object.bytes, { contentType: object.contentType });
      return true;
    },
  };
}

/** `@lading/engine/collector`'s push mode (what `lading push` sends) as the pipeline's notifier. */
async function collectorNotifier(url: string, env: Environment) {
  const token = serverTokenFrom(env);
  if (!token) throw new LadingError('USAGE', '--notify needs an API token in LADING_SERVER_TOKEN');
  const { pushBundle } = await import('@lading/engine/collector');
  const server = { url, token };
  return {
    describe: () => url,
    send: async (request: import('@lading/engine/pipeline').NotifyRequest) => {
      const outcome = await pushBundle({
        server,
        metadata: {
          repository: request.repository,
          digest: request.digest,
          platform: request.platform,
          ...(request.indexDigest ? { indexDigest: request.indexDigest } : {}),
          ...(request.tags.length ? { tags: request.tags } : {}),
        },
        parts: [
          { name: 'report', bytes: request.report },
          { name: 'sbom', bytes: request.sbom, contentType: 'application/vnd.cyclonedx+json' },
          { name: 'attestation', bytes: request.provenance, contentType: 'application/vnd.dsse.envelope.v1+json' },
        ],
      });
      return { status: outcome.accepted.replayed ? 200 : 202, location: outcome.accepted.job.url };
    },
  };
}
