// Baseline: how long the CLI takes to start, which every other figure includes.
export const name = 'cli-startup';

export async function setup() {
  return {
    cases: [
      { label: 'lading --version', cmd: process.execPath, args: ['bin/lading', '--version'] },
      { label: 'node -e 0 (floor)', cmd: process.execPath, args: ['-e', '0'] },
    ],
  };
}
