// The GitHub Action's reading of its environment, as cli/src/environment.ts is the CLI's: every INPUT_* and GITHUB_*
// variable becomes a plain value here, at the edge. Inputs are read from INPUT_* only (what the runner sets for this
// step alone) and nothing is ever written to GITHUB_ENV, so no input leaks into a later step (trivy-action#422).
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LadingError } from '@lading/engine/errors';
import type { Environment } from '../environment.js';

export type ActionCommand = 'scan' | 'sbom' | 'pipeline';

export interface ActionInputs {
  command: ActionCommand;
  image: string;
  platform?: string;
  failOn?: string;
  severity?: string;
  ignoreUnfixed: boolean;
  policy?: string;
  baseline?: string;
  vex: string[];
  /** `FORMAT=FILE` lines, as `-o` takes them. */
  outputs: string[];
  /** Where the SARIF file goes; undefined: none written. */
  sarif?: string;
  uploadSarif: boolean;
  sarifCategory?: string;
  dbCache: boolean;
  offline: boolean;
  /** pipeline: REGISTRY/REPOSITORY the image, signatures and attestations go to. */
  repository?: string;
  key?: string;
  push: boolean;
  tags: string[];
  store?: string;
  serverUrl?: string;
  prComment: boolean;
  /** Severity from which findings count in the pull-request comparison (default medium). */
  prThreshold: string;
  issueLifecycle: boolean;
  summary: boolean;
  githubToken?: string;
}

export interface GithubContext {
  /** REST API base, no trailing slash (GITHUB_API_URL; GHES and tests point it elsewhere). */
  apiUrl: string;
  repository?: string;
  sha?: string;
  ref?: string;
  eventName?: string;
  eventPath?: string;
  serverUrl: string;
  runId?: string;
  workspace: string;
  outputFile?: string;
  summaryFile?: string;
  /** GITHUB_STATE: values `main:` leaves for `post:` (which reads them back as STATE_*). */
  stateFile?: string;
  /** Where the vulnerability database lives during the job (RUNNER_TEMP: cleaned after every job). */
  dbDir: string;
  debug: boolean;
  /** The actions cache service (ACTIONS_RESULTS_URL + ACTIONS_RUNTIME_TOKEN), when the runner provides one. */
  cacheService?: { url: string; token: string };
}

/** What @actions/core's getInput reads: `INPUT_` + the name upper-cased, spaces as underscores, hyphens kept. */
export function input(env: Environment, name: string): string {
  return (env[`INPUT_${name.replace(/ /g, '_').toUpperCase()}`] ?? '').trim();
}

/** YAML 1.2 core booleans, as @actions/core's getBooleanInput accepts them; anything else is exit 2. */
export function booleanInput(env: Environment, name: string, fallback: boolean): boolean {
  const value = input(env, name);
  if (value === '') return fallback;
  if (['true', 'True', 'TRUE'].includes(value)) return true;
  if (['false', 'False', 'FALSE'].includes(value)) return false;
  throw new LadingError('USAGE', `input ${name}: "${value}" is not a boolean (true or false)`);
}

/** Entries one a line or comma-separated, trimmed, empty ones dropped (`tags`, `vex`). */
export function listInput(env: Environment, name: string): string[] {
  return input(env, name)
    .split(/[\r\n,]+/)
    .map((line) => line.trim())
    .filter((line) => line !== '');
}

const COMMANDS: readonly ActionCommand[] = ['scan', 'sbom', 'pipeline'];

export function actionInputsFrom(env: Environment): ActionInputs {
  const command = input(env, 'command') || 'scan';
  if (!COMMANDS.includes(command as ActionCommand)) {
    throw new LadingError('USAGE', `input command: "${command}" is not one of ${COMMANDS.join(', ')}`);
  }
  const image = input(env, 'image');
  if (!image) throw new LadingError('USAGE', 'input image is required (a registry reference, oci:DIR, …)');
  const optional = (name: string) => input(env, name) || undefined;
  const inputs: ActionInputs = {
    command: command as ActionCommand,
    image,
    ignoreUnfixed: booleanInput(env, 'ignore-unfixed', false),
    vex: listInput(env, 'vex'),
    outputs: input(env, 'outputs')
      .split(/\r?\n/)
      .map((l) => l.trim())
      .filter(Boolean),
    uploadSarif: booleanInput(env, 'upload-sarif', false),
    dbCache: booleanInput(env, 'db-cache', true),
    offline: booleanInput(env, 'offline', false),
    push: booleanInput(env, 'push', false),
    tags: listInput(env, 'tags'),
    prComment: booleanInput(env, 'pr-comment', false),
    prThreshold: input(env, 'pr-threshold') || 'medium',
    issueLifecycle: booleanInput(env, 'issue-lifecycle', false),
    summary: booleanInput(env, 'summary', true),
  };
  const assign = <K extends keyof ActionInputs>(key: K, value: ActionInputs[K] | undefined) => {
    if (value !== undefined) inputs[key] = value;
  };
  assign('platform', optional('platform'));
  // `fail-on: none` switches the gate off; the default (high) is action.yml's
  const failOn = optional('fail-on');
  assign('failOn', failOn && failOn.toLowerCase() !== 'none' ? failOn : undefined);
  assign('severity', optional('severity'));
  assign('policy', optional('policy'));
  assign('baseline', optional('baseline'));
  // `sarif:` given but empty disables SARIF; absent (a runner older than the action.yml default) means the default
  const sarif = env['INPUT_SARIF'] === undefined ? 'lading.sarif' : input(env, 'sarif');
  assign('sarif', sarif || undefined);
  assign('sarifCategory', optional('sarif-category'));
  assign('key', optional('key'));
  assign('repository', optional('repository'));
  assign('store', optional('store'));
  assign('serverUrl', optional('server-url'));
  assign('githubToken', optional('github-token'));
  if (inputs.command === 'pipeline' && !inputs.repository) {
    throw new LadingError('USAGE', 'input repository is required with command: pipeline (REGISTRY/REPOSITORY)');
  }
  if (inputs.uploadSarif && !inputs.sarif) {
    throw new LadingError('USAGE', 'input upload-sarif is true but sarif is empty: name the SARIF file to upload');
  }
  return inputs;
}

export function githubContextFrom(env: Environment): GithubContext {
  const context: GithubContext = {
    apiUrl: (env['GITHUB_API_URL'] || 'https://api.github.com').replace(/\/+$/, ''),
    serverUrl: (env['GITHUB_SERVER_URL'] || 'https://github.com').replace(/\/+$/, ''),
    workspace: env['GITHUB_WORKSPACE'] || process.cwd(),
    dbDir: env['LADING_DB_DIR'] || join(env['RUNNER_TEMP'] || tmpdir(), 'lading-db'),
    // the runner's "debug logging" switch (ACTIONS_STEP_DEBUG) shows as RUNNER_DEBUG=1 in the step
    debug: env['RUNNER_DEBUG'] === '1' || env['ACTIONS_STEP_DEBUG'] === 'true',
  };
  const set = <K extends keyof GithubContext>(key: K, value: string | undefined) => {
    if (value) (context as unknown as Record<string, string>)[key] = value;
  };
  set('repository', env['GITHUB_REPOSITORY']);
  set('sha', env['GITHUB_SHA']);
  set('ref', env['GITHUB_REF']);
  set('eventName', env['GITHUB_EVENT_NAME']);
  set('eventPath', env['GITHUB_EVENT_PATH']);
  set('runId', env['GITHUB_RUN_ID']);
  set('outputFile', env['GITHUB_OUTPUT']);
  set('summaryFile', env['GITHUB_STEP_SUMMARY']);
  set('stateFile', env['GITHUB_STATE']);
  const cacheUrl = env['ACTIONS_RESULTS_URL'];
  const cacheToken = env['ACTIONS_RUNTIME_TOKEN'];
  if (cacheUrl && cacheToken) context.cacheService = { url: cacheUrl.replace(/\/+$/, ''), token: cacheToken };
  return context;
}
