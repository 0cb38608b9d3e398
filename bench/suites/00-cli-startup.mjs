// Baseline: how long the CLI takes to start, which every other figure includes.
import { ladingCases } from './10-image-fixtures.mjs';

export const name = 'cli-startup';

export async function setup() {
  return {
    cases: [
      ...ladingCases('lading --version', ['--version']),
      { label: 'node -e 0 (floor)', cmd: process.execPath, args: ['-e', '0'] },
    ],
  };
}
