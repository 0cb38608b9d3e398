import { readFile } from 'node:fs/promises';
import { LadingError } from '@lading/engine/errors';
import type { PatchPlan } from '@lading/engine/patch';
import type { Command } from 'commander';
import { dbDirFrom, dockerConfigPathFrom, offlineFrom, sourceDateEpochFrom } from '../environment.js';
import { collect } from '../output.js';
import { parseOciOutput } from './flatten.js';

interface PatchFlags {
  plan?: boolean;
  apply?: boolean;
  output?: string;
  mirror?: string;
  keyring: string[];
  dbDir?: string;
  platform?: string;
  insecureRegistry: string[];
  offline?: boolean;
  json?: boolean;
}

export function registerPatch(program: Command): void {
  program
    .command('patch')
    .description(
      "update vulnerable OS packages from the image's own repositories, without a daemon: --plan says what can be " +
        'fixed and how; --apply adds the updates that need no maintainer scripts as one layer',
    )
    .argument('<target>', 'an image: docker-archive:, oci:, oci-archive: or a registry reference')
    .option('--plan', 'list each fixable finding: candidate, binaries, scripts/conffiles/triggers, verdict')
    .option('--apply', 'write the patched image (needs -o oci:DIR[:TAG])')
    .option('-o, --output <format|oci:dir[:tag]>', '--plan: table (default) or json; --apply: the OCI layout to write')
    .option('--mirror <url>', "download from this repository instead of the image's own sources")
    .option('--keyring <file>', "trust this OpenPGP keyring (apt) instead of the image's keys, repeatable", collect, [])
    .option('--db-dir <dir>', 'vulnerability database folder (env LADING_DB_DIR)')
    .option('--platform <os/arch>', 'platform to pick from multi-platform images')
    .option('--insecure-registry <host>', 'allow plain HTTP to this registry, repeatable', collect, [])
    .option('--offline', 'never reach the network (patching then cannot run)')
    .option(
      '--json',
      '--apply: print the result as JSON on stdout (digests, packages patched, resolvedDependencies for provenance)',
    )
    .action(async (spec: string, flags: PatchFlags) => {
      if (!!flags.plan === !!flags.apply) throw new LadingError('USAGE', 'give one of --plan or --apply');
      const format = flags.plan ? (flags.output ?? 'table') : undefined;
      if (format !== undefined && format !== 'table' && format !== 'json') {
        throw new LadingError('USAGE', `--output ${format}: --plan writes table or json`);
      }
      if (flags.apply && !flags.output) throw new LadingError('USAGE', '--apply needs -o oci:DIR[:TAG]');
      const out = flags.apply ? parseOciOutput(flags.output as string) : undefined;
      const now = new Date();
      const [{ scan }, patch] = await Promise.all([import('@lading/engine/scan'), import('@lading/engine/patch')]);
      const imageOptions = {
        insecureRegistries: flags.insecureRegistry,
        dockerConfigPath: dockerConfigPathFrom(process.env),
        offline: offlineFrom(flags.offline, process.env),
        ...(flags.platform ? { platform: flags.platform } : {}),
      };
      if (imageOptions.offline) {
        throw new LadingError('USAGE', '--offline: patching downloads packages from the repositories');
      }
      // The findings come from a scan against the local vulnerability data (no automatic update here).
      const report = await scan(spec, {
        ...imageOptions,
        dbDir: dbDirFrom(flags.dbDir, process.env),
        now,
        checks: false,
        secrets: false,
        // Only OS packages can be patched: data missing for language ecosystems does not matter here; missing data
        // for the image's own release does (below).
        allowMissingData: true,
      });
      const osData = report.os?.ecosystem;
      const osGap = report.coverage?.gaps.find((g) => g.scope === osData);
      if (osGap) throw new LadingError('NO_DB', `${osGap.message}; run \`lading db update --ecosystem ${osData}\``);
      const options: Parameters<typeof patch.planPatch>[1] = {
        ...imageOptions,
        findings: patch.fixableFindings(report.findings),
        now,
      };
      if (flags.mirror) options.mirror = flags.mirror;
      if (flags.keyring.length > 0) options.keyrings = await Promise.all(flags.keyring.map((k) => readKeyringFile(k)));
      if (!out) {
        const plan = await patch.planPatch(spec, options);
        process.stdout.write(format === 'json' ? `${JSON.stringify(plan, null, 2)}\n` : planTable(plan));
        return;
      }
      const created = sourceDateEpochFrom(process.env);
      const result = await patch.applyPatch(spec, {
        ...options,
        outDir: out.dir,
        ...(out.tag ? { tag: out.tag } : {}),
        ...(created ? { created: created.toISOString().replace('.000Z', 'Z') } : {}),
      });
      const dest = `oci:${out.dir}${out.tag ? `:${out.tag}` : ''}`;
      const lines = result.patched.map((p) => `  ${p.name} ${p.from} → ${p.to}\n`);
      const skipped = result.plan.entries.filter((e) => e.verdict !== 'apply');
      process.stderr.write(
        `patched ${result.plan.target.ref} into ${dest}: ${result.manifestDigest}\n${lines.join('')}` +
          result.keptConffiles.map((c) => `  kept the image's ${c} (the new one is ${c}.dpkg-dist)\n`).join('') +
          skipped.map((e) => `  not patched: ${e.source} (${e.verdict}: ${e.reason ?? ''})\n`).join(''),
      );
      if (flags.json) process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
    });
}

async function readKeyringFile(path: string): Promise<Buffer> {
  try {
    return await readFile(path);
  } catch (err) {
    throw new LadingError('USAGE', `--keyring ${path}: ${(err as NodeJS.ErrnoException).code ?? 'unreadable'}`, {
      cause: err,
    });
  }
}

type Plan = PatchPlan;

/** One row per source package; the binaries, and what makes a verdict other than apply, on the lines below. */
export function planTable(plan: Plan): string {
  if (plan.entries.length === 0) return `${plan.target.ref}: no finding with a fixed version in an installed package\n`;
  const rows = plan.entries.map((e) => [
    e.source,
    e.fixedVersion,
    e.candidateVersion ?? '-',
    e.verdict,
    [e.scripts.length ? 'scripts' : '', e.conffiles.length ? 'conffiles' : '', e.triggers.length ? 'triggers' : '']
      .filter((x) => x)
      .join(',') || '-',
    e.findings.join(' '),
  ]);
  const head = ['SOURCE', 'FIXED', 'CANDIDATE', 'VERDICT', 'INVOLVES', 'FINDINGS'];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] as string).length)));
  const line = (cells: string[]) =>
    `${cells.map((c, i) => (i < cells.length - 1 ? c.padEnd(widths[i] as number) : c)).join('  ')}\n`;
  let text = `${plan.target.ref} (${plan.distro}; ${plan.repositories.join(', ')})\n${line(head)}`;
  plan.entries.forEach((e, i) => {
    text += line(rows[i] as string[]);
    for (const b of e.binaries) {
      text += `  ${b.name} ${b.installed} → ${b.candidate ?? '(none)'}${b.dependency ? ' (dependency)' : ''}\n`;
    }
    if (e.reason) text += `  ${e.reason}\n`;
  });
  return text;
}
