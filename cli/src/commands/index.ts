import type { Command } from 'commander';
import { registerAttest } from './attest.js';
import { registerDb } from './db.js';
import { registerDiff } from './diff.js';
import { registerFlatten } from './flatten.js';
import { registerKeys } from './keys.js';
import { registerKyverno } from './kyverno.js';
import { registerPatch } from './patch.js';
import { registerPipeline } from './pipeline.js';
import { registerProvenance } from './provenance.js';
import { registerPush } from './push.js';
import { registerSbom } from './sbom.js';
import { registerScan } from './scan.js';
import { registerSignBlob } from './sign-blob.js';
import { registerSignImage } from './sign-image.js';
import { registerSummary } from './summary.js';
import { registerTrace } from './trace.js';
import { registerVersion } from './version.js';

/** Every command, in the order `lading --help` lists them. One explicit list: no import side effects. */
export function registerCommands(program: Command): void {
  registerScan(program);
  registerSbom(program);
  registerDb(program);
  registerDiff(program);
  registerSummary(program);
  registerTrace(program);
  registerFlatten(program);
  registerPatch(program);
  registerKeys(program);
  registerSignBlob(program);
  registerSignImage(program);
  registerAttest(program);
  registerProvenance(program);
  registerKyverno(program);
  registerPipeline(program);
  registerPush(program);
  registerVersion(program);
}
