import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { REPORT_FORMATS } from '@lading/engine/report';
import { Command } from 'commander';
import { OUTPUT_FORMAT_NAMES } from '../src/commands/scan.js';

describe('lazy command loading', () => {
  it('the -o format names in the help text are exactly the renderers that load at run time', () => {
    assert.deepEqual([...OUTPUT_FORMAT_NAMES].sort(), Object.keys(REPORT_FORMATS).sort());
  });

  it('registration alone still defines every command and its -o help', async () => {
    const { registerCommands } = await import('../src/commands/index.js');
    const program = new Command('lading');
    registerCommands(program);
    const names = program.commands.map((c) => c.name());
    assert.ok(names.includes('scan') && names.includes('sbom') && names.includes('db'));
    const sbom = program.commands.find((c) => c.name() === 'sbom');
    assert.match(sbom?.helpInformation() ?? '', /cyclonedx-json, spdx-json/);
  });
});
