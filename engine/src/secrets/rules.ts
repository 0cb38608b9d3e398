import type { Severity } from '../model/finding.js';

/**
 * One secret rule. Most are translated from gitleaks' default configuration (MIT; see README.md for the notice,
 * the upstream commit and the rules left out); `source: 'lading'` marks the few gitleaks has no rule for.
 * Translation: Go RE2 → JavaScript. A leading `(?i)` becomes the `i` flag; scoped flags (`(?i:…)`, `(?-i:…)`,
 * a `(?i)` mid-pattern) are rewritten as explicit character classes or the rule is left out; `(?P<n>…)` becomes
 * `(?<n>…)`; `\z` becomes `$` (no `m` flag, so end of text); unbounded repeats get an upper bound (the scanner's
 * overlap window must hold any match, and bounds keep backtracking linear); the optional `[\w.-]{0,50}?` name
 * prefix of gitleaks' assignment rules is dropped (it only widens the match, and costs 50 tries per position).
 */
export interface SecretRule {
  id: string;
  title: string;
  severity: Severity;
  /** Lower-case literals: the rule runs on a chunk only when one of them occurs in it (case-insensitively). */
  keywords: readonly string[];
  /** JavaScript source of the pattern (compiled with `flags` plus `g`). */
  pattern: string;
  flags?: 'i';
  /** Capture group holding the secret (0: the whole match). */
  group?: number;
  /** Minimum Shannon entropy (bits per character) of the secret, as gitleaks' `entropy`. */
  entropy?: number;
  /** Secrets matching this are placeholders or documented examples, not findings. */
  allow?: RegExp;
  /** Where the rule came from. */
  source: 'gitleaks' | 'lading';
}

/** The end of a token as gitleaks writes it: a quote, space, `;`, an escaped newline or the end of text. */
const END = `(?:[\\x60'"\\s;]|\\\\[nr]|$)`;
/** gitleaks' assignment operators between a keyword and its value. */
const ASSIGN = `(?:[ \\t\\w.-]{0,20})[\\s'"]{0,3}(?:=|>|:{1,3}=|\\|\\||:|=>|\\?=|,)[\\x60'"\\s=]{0,5}`;
/** Values that name a secret rather than hold one: `${VAR}`, `$VAR`, `<password>`, `***`, `changeme`. */
const PLACEHOLDER =
  /^(?:\$\{?[\w.:-]*\}?|<[^>]*>|%[\w]+%|\{\{.*\}\}|\*+|x+|\.+|(?:change|replace)[_-]?me|password|passw(?:or)?d|secret|example|test|dummy|redacted|null|none|true|false)$/i;

export const SECRET_RULES: readonly SecretRule[] = [
  {
    id: 'aws-access-key-id',
    title: 'AWS access key ID',
    severity: 'CRITICAL',
    keywords: ['a3t', 'akia', 'asia', 'abia', 'acca'],
    pattern: '\\b((?:A3T[A-Z0-9]|AKIA|ASIA|ABIA|ACCA)[A-Z2-7]{16})\\b',
    group: 1,
    entropy: 3,
    allow: /EXAMPLE$/,
    source: 'gitleaks',
  },
  {
    id: 'aws-secret-access-key',
    title: 'AWS secret access key',
    severity: 'CRITICAL',
    keywords: ['aws_secret_access_key', 'aws-secret-access-key', 'secretaccesskey', 'aws_secret_key'],
    pattern: `(?:aws_secret_access_key|aws-secret-access-key|secretaccesskey|aws_secret_key)${ASSIGN}([A-Za-z0-9/+]{40})(?![A-Za-z0-9/+=])`,
    flags: 'i',
    group: 1,
    entropy: 4,
    allow: /EXAMPLE/,
    source: 'lading',
  },
  {
    id: 'gcp-service-account-key',
    title: 'GCP service account key',
    severity: 'CRITICAL',
    keywords: ['private_key_id'],
    pattern: '"private_key_id"\\s{0,10}:\\s{0,10}"([a-f0-9]{40})"',
    group: 1,
    source: 'lading',
  },
  {
    id: 'gcp-api-key',
    title: 'GCP API key',
    severity: 'HIGH',
    keywords: ['aiza'],
    pattern: `\\b(AIza[\\w-]{35})${END}`,
    group: 1,
    entropy: 4,
    source: 'gitleaks',
  },
  {
    id: 'azure-storage-account-key',
    title: 'Azure storage account key',
    severity: 'CRITICAL',
    keywords: ['accountkey'],
    pattern: 'AccountKey=([A-Za-z0-9+/]{86}==)',
    flags: 'i',
    group: 1,
    source: 'lading',
  },
  {
    id: 'azure-ad-client-secret',
    title: 'Azure AD client secret',
    severity: 'HIGH',
    keywords: ['q~'],
    pattern: `(?:^|[\\\\'"\\x60\\s>=:(,)])([a-zA-Z0-9_~.]{3}\\dQ~[a-zA-Z0-9_~.-]{31,34})(?:$|[\\\\'"\\x60\\s<),])`,
    group: 1,
    entropy: 3,
    source: 'gitleaks',
  },
  {
    id: 'github-pat',
    title: 'GitHub personal access token',
    severity: 'HIGH',
    keywords: ['ghp_'],
    pattern: 'ghp_[0-9a-zA-Z]{36}',
    entropy: 3,
    source: 'gitleaks',
  },
  {
    id: 'github-fine-grained-pat',
    title: 'GitHub fine-grained personal access token',
    severity: 'HIGH',
    keywords: ['github_pat_'],
    pattern: 'github_pat_\\w{82}',
    entropy: 3,
    source: 'gitleaks',
  },
  {
    id: 'github-oauth',
    title: 'GitHub OAuth access token',
    severity: 'HIGH',
    keywords: ['gho_'],
    pattern: 'gho_[0-9a-zA-Z]{36}',
    entropy: 3,
    source: 'gitleaks',
  },
  {
    id: 'github-app-token',
    title: 'GitHub App token',
    severity: 'HIGH',
    keywords: ['ghu_', 'ghs_'],
    pattern: '(?:ghu|ghs)_[0-9a-zA-Z]{36}',
    entropy: 3,
    source: 'gitleaks',
  },
  {
    id: 'github-refresh-token',
    title: 'GitHub refresh token',
    severity: 'HIGH',
    keywords: ['ghr_'],
    pattern: 'ghr_[0-9a-zA-Z]{36}',
    entropy: 3,
    source: 'gitleaks',
  },
  {
    id: 'gitlab-pat',
    title: 'GitLab personal access token',
    severity: 'HIGH',
    keywords: ['glpat-'],
    pattern: 'glpat-[\\w-]{20}',
    entropy: 3,
    source: 'gitleaks',
  },
  {
    id: 'gitlab-ptt',
    title: 'GitLab pipeline trigger token',
    severity: 'HIGH',
    keywords: ['glptt-'],
    pattern: 'glptt-[0-9a-f]{40}',
    entropy: 3,
    source: 'gitleaks',
  },
  {
    id: 'gitlab-rrt',
    title: 'GitLab runner registration token',
    severity: 'HIGH',
    keywords: ['gr1348941'],
    pattern: 'GR1348941[\\w-]{20}',
    entropy: 3,
    source: 'gitleaks',
  },
  {
    id: 'gitlab-runner-authentication-token',
    title: 'GitLab runner authentication token',
    severity: 'HIGH',
    keywords: ['glrt-'],
    pattern: 'glrt-[0-9a-zA-Z_\\-]{20}',
    entropy: 3,
    source: 'gitleaks',
  },
  {
    id: 'gitlab-deploy-token',
    title: 'GitLab deploy token',
    severity: 'HIGH',
    keywords: ['gldt-'],
    pattern: 'gldt-[0-9a-zA-Z_\\-]{20}',
    entropy: 3,
    source: 'gitleaks',
  },
  {
    id: 'private-key',
    title: 'Private key',
    severity: 'CRITICAL',
    keywords: ['-----begin'],
    // gitleaks: `(?i)-----BEGIN[ A-Z0-9_-]{0,100}PRIVATE KEY(?: BLOCK)?-----[\s\S-]{64,}?KEY(?: BLOCK)?-----`. The
    // body is bounded at 32 KiB (a 16384-bit RSA key is ~12 KiB of PEM) so a header with no end fails in bounded
    // time, and the body excludes `-` so a run of headers cannot make each start rescan the next ones.
    pattern:
      '-----BEGIN[ A-Z0-9_-]{0,100}PRIVATE KEY(?: BLOCK)?-----([^-]{64,32768})-----END[ A-Z0-9_-]{0,100}KEY(?: BLOCK)?-----',
    flags: 'i',
    group: 1,
    source: 'gitleaks',
  },
  {
    id: 'jwt',
    title: 'JSON Web Token',
    severity: 'MEDIUM',
    keywords: ['eyj'],
    // gitleaks' `ey` keyword is in nearly every base64 blob: a JWT's header always starts `eyJ` (`{"`).
    pattern: `\\b(ey[a-zA-Z0-9]{17,4096}\\.ey[a-zA-Z0-9\\/\\\\_-]{17,16384}\\.(?:[a-zA-Z0-9\\/\\\\_-]{10,4096}={0,2})?)${END}`,
    group: 1,
    entropy: 3,
    source: 'gitleaks',
  },
  {
    id: 'jwt-base64',
    title: 'Base64-encoded JSON Web Token',
    severity: 'MEDIUM',
    keywords: ['zxlk'],
    pattern:
      '\\bZXlK(?:(?<alg>aGJHY2lPaU)|(?<apu>aGNIVWlPaU)|(?<apv>aGNIWWlPaU)|(?<aud>aGRXUWlPaU)|(?<b64>aU5qUWlP)|(?<crit>amNtbDBJanBi)|(?<cty>amRIa2lPaU)|(?<epk>bGNHc2lPbn)|(?<enc>bGJtTWlPaU)|(?<jku>cWEzVWlPaU)|(?<jwk>cWQyc2lPb)|(?<iss>cGMzTWlPaU)|(?<iv>cGRpSTZJ)|(?<kid>cmFXUWlP)|(?<key_ops>clpYbGZiM0J6SWpwY)|(?<kty>cmRIa2lPaUp)|(?<nonce>dWIyNWpaU0k2)|(?<p2c>d01tTWlP)|(?<p2s>d01uTWlPaU)|(?<ppt>d2NIUWlPaU)|(?<sub>emRXSWlPaU)|(?<svt>emRuUWlP)|(?<tag>MFlXY2lPaU)|(?<typ>MGVYQWlPaUp)|(?<url>MWNtd2l)|(?<use>MWMyVWlPaUp)|(?<ver>MlpYSWlPaU)|(?<version>MlpYSnphVzl1SWpv)|(?<x>NElqb2)|(?<x5c>NE5XTWlP)|(?<x5t>NE5YUWlPaU)|(?<x5ts256>NE5YUWpVekkxTmlJNkl)|(?<x5u>NE5YVWlPaU)|(?<zip>NmFYQWlPaU))[a-zA-Z0-9\\/\\\\_+\\-\\r\\n]{40,16384}={0,2}',
    entropy: 2,
    source: 'gitleaks',
  },
  {
    id: 'jwt-signing-secret',
    title: 'JWT signing secret',
    severity: 'HIGH',
    keywords: ['jwt', 'secret_key_base'],
    pattern: `\\b(?:jwt[_.-]?(?:secret|signing[_.-]?key|key)|secret_key_base)\\b${ASSIGN}([^\\s'"\\x60;,]{12,256})`,
    flags: 'i',
    group: 1,
    entropy: 3,
    allow: PLACEHOLDER,
    source: 'lading',
  },
  {
    id: 'database-url-password',
    title: 'Database URL with a password',
    severity: 'HIGH',
    keywords: ['postgres', 'mysql', 'mongodb', 'redis'],
    pattern:
      '\\b(?:postgres(?:ql)?|mysql|mariadb|mongodb(?:\\+srv)?|rediss?)://[^\\s:@/\'"\\x60]{0,128}:([^\\s:@/\'"\\x60]{1,256})@[\\w.-]{1,253}',
    flags: 'i',
    group: 1,
    allow: PLACEHOLDER,
    source: 'lading',
  },
  {
    id: 'npm-access-token',
    title: 'npm access token',
    severity: 'HIGH',
    keywords: ['npm_'],
    pattern: `\\b(npm_[a-z0-9]{36})${END}`,
    flags: 'i',
    group: 1,
    entropy: 2,
    source: 'gitleaks',
  },
  {
    id: 'pypi-upload-token',
    title: 'PyPI upload token',
    severity: 'HIGH',
    keywords: ['pypi-ageichlwas5vcmc'],
    pattern: 'pypi-AgEIcHlwaS5vcmc[\\w-]{50,1000}',
    entropy: 3,
    source: 'gitleaks',
  },
  {
    id: 'slack-bot-token',
    title: 'Slack bot token',
    severity: 'HIGH',
    keywords: ['xoxb'],
    pattern: 'xoxb-[0-9]{10,13}-[0-9]{10,13}[a-zA-Z0-9-]{0,256}',
    entropy: 3,
    source: 'gitleaks',
  },
  {
    id: 'slack-user-token',
    title: 'Slack user token',
    severity: 'HIGH',
    keywords: ['xoxp-', 'xoxe-'],
    pattern: 'xox[pe](?:-[0-9]{10,13}){3}-[a-zA-Z0-9-]{28,34}',
    entropy: 2,
    source: 'gitleaks',
  },
  {
    id: 'slack-app-token',
    title: 'Slack app-level token',
    severity: 'HIGH',
    keywords: ['xapp'],
    pattern: 'xapp-\\d-[A-Z0-9]{1,64}-\\d{1,32}-[a-z0-9]{1,256}',
    flags: 'i',
    entropy: 2,
    source: 'gitleaks',
  },
  {
    id: 'slack-legacy-token',
    title: 'Slack legacy token',
    severity: 'HIGH',
    keywords: ['xoxo', 'xoxs'],
    pattern: 'xox[os]-\\d{1,32}-\\d{1,32}-\\d{1,32}-[a-fA-F\\d]{1,256}',
    entropy: 2,
    source: 'gitleaks',
  },
  {
    id: 'slack-webhook-url',
    title: 'Slack webhook URL',
    severity: 'MEDIUM',
    keywords: ['hooks.slack.com'],
    pattern: '(?:https?://)?hooks\\.slack\\.com/(?:services|workflows|triggers)/[A-Za-z0-9+/]{43,56}',
    source: 'gitleaks',
  },
  {
    id: 'stripe-access-token',
    title: 'Stripe secret or restricted key',
    severity: 'HIGH',
    keywords: ['sk_test', 'sk_live', 'sk_prod', 'rk_test', 'rk_live', 'rk_prod'],
    pattern: `\\b((?:sk|rk)_(?:test|live|prod)_[a-zA-Z0-9]{10,99})${END}`,
    group: 1,
    entropy: 2,
    source: 'gitleaks',
  },
  {
    id: 'sendgrid-api-token',
    title: 'SendGrid API token',
    severity: 'HIGH',
    keywords: ['sg.'],
    // gitleaks: `\b(SG\.(?i)[a-z0-9=_\-\.]{66})…`: the mid-pattern `(?i)` written as a class.
    pattern: `\\b(SG\\.[a-zA-Z0-9=_\\-.]{66})${END}`,
    group: 1,
    entropy: 2,
    source: 'gitleaks',
  },
  {
    id: 'huggingface-access-token',
    title: 'Hugging Face access token',
    severity: 'HIGH',
    keywords: ['hf_'],
    // gitleaks: `\b(hf_(?i:[a-z]{34}))…`: the scoped `(?i:…)` written as a class.
    pattern: `\\b(hf_[a-zA-Z]{34})${END}`,
    group: 1,
    entropy: 2,
    source: 'gitleaks',
  },
  {
    id: 'openai-api-key',
    title: 'OpenAI API key',
    severity: 'HIGH',
    keywords: ['t3blbkfj'],
    pattern: `\\b(sk-(?:proj|svcacct|admin)-(?:[A-Za-z0-9_-]{74}|[A-Za-z0-9_-]{58})T3BlbkFJ(?:[A-Za-z0-9_-]{74}|[A-Za-z0-9_-]{58})\\b|sk-[a-zA-Z0-9]{20}T3BlbkFJ[a-zA-Z0-9]{20})${END}`,
    group: 1,
    entropy: 3,
    source: 'gitleaks',
  },
  {
    id: 'anthropic-api-key',
    title: 'Anthropic API key',
    severity: 'HIGH',
    keywords: ['sk-ant-api03'],
    pattern: `\\b(sk-ant-api03-[a-zA-Z0-9_\\-]{93}AA)${END}`,
    group: 1,
    source: 'gitleaks',
  },
  {
    id: 'digitalocean-pat',
    title: 'DigitalOcean personal access token',
    severity: 'HIGH',
    keywords: ['dop_v1_'],
    pattern: `\\b(dop_v1_[a-f0-9]{64})${END}`,
    group: 1,
    entropy: 3,
    source: 'gitleaks',
  },
  {
    id: 'vault-service-token',
    title: 'HashiCorp Vault service token',
    severity: 'HIGH',
    keywords: ['hvs.'],
    // gitleaks also matches the legacy `s.` + 24 characters (with a scoped `(?i:…)`): too loose for image files.
    pattern: `\\b(hvs\\.[\\w-]{90,120})${END}`,
    group: 1,
    entropy: 3.5,
    source: 'gitleaks',
  },
  {
    id: 'shopify-access-token',
    title: 'Shopify access token',
    severity: 'HIGH',
    keywords: ['shpat_'],
    pattern: 'shpat_[a-fA-F0-9]{32}',
    entropy: 2,
    source: 'gitleaks',
  },
  {
    id: 'age-secret-key',
    title: 'age secret key',
    severity: 'HIGH',
    keywords: ['age-secret-key-1'],
    pattern: 'AGE-SECRET-KEY-1[QPZRY9X8GF2TVDW0S3JN54KHCE6MUA7L]{58}',
    source: 'gitleaks',
  },
  {
    id: 'doppler-api-token',
    title: 'Doppler API token',
    severity: 'HIGH',
    keywords: ['dp.pt.'],
    // gitleaks: `dp\.pt\.(?i)[a-z0-9]{43}`: the mid-pattern `(?i)` written as a class.
    pattern: 'dp\\.pt\\.[a-zA-Z0-9]{43}',
    entropy: 2,
    source: 'gitleaks',
  },
];

/** The upstream gitleaks commit the translated rules were read from. */
export const GITLEAKS_COMMIT = '009e025ad4106ab333aa0b9dc4f2a884390d134c';

const SCOPED_FLAGS =
  "scoped or mid-pattern inline flags ((?i) after the start, (?i:…), (?-i:…)): Node 20's RegExp has no modifiers, and the rule was not rewritten by hand";

/**
 * gitleaks rules left out, each with the reason (engine/src/secrets/README.md lists them too). Rules neither kept
 * nor listed here are service-specific ones not selected: they compile, but each costs a pass.
 */
export const REJECTED_GITLEAKS_RULES: readonly { id: string; reason: string }[] = [
  ...[
    'adobe-client-secret',
    'alibaba-access-key-id',
    'atlassian-api-token',
    'authress-service-client-access-key',
    'cisco-meraki-api-key',
    'cohere-api-token',
    'curl-auth-header',
    'database-password',
    'duffel-api-token',
    'dynatrace-api-token',
    'easypost-api-token',
    'easypost-test-api-token',
    'etsy-access-token',
    'facebook-page-access-token',
    'flutterwave-encryption-key',
    'flutterwave-public-key',
    'flutterwave-secret-key',
    'frameio-api-token',
    'gocardless-api-token',
    'hashicorp-tf-api-token',
    'intra42-client-secret',
    'linear-api-key',
    'okta-access-token',
    'planetscale-api-token',
    'planetscale-password',
    'postman-api-token',
    'privateai-api-token',
    'sendinblue-api-token',
    'sumologic-access-id',
    'sumologic-access-token',
    'telegram-bot-api-token',
  ].map((id) => ({ id, reason: SCOPED_FLAGS })),
  { id: 'kubernetes-secret-yaml', reason: '(?s:.) dot-all groups spanning YAML documents: no scoped flags in Node 20' },
  {
    id: 'generic-api-key',
    reason: 'scoped flags, and too imprecise for image files (any long value after key/token/secret)',
  },
  { id: 'twilio-api-key', reason: 'too imprecise: its keyword `sk` occurs in most text and defeats the prefilter' },
  { id: 'facebook-access-token', reason: 'too imprecise: any 15-16 digits, a bar and 27-40 characters' },
  { id: 'sourcegraph-access-token', reason: 'too imprecise: matches any 40 hex characters' },
];
