import { createHash } from 'node:crypto';

/**
 * Secrets published as examples or test material: finding them in an image says nothing about a leak. Each is
 * identified by the sha256 (hex) of its normalised form (`normaliseSecret`), never by the secret itself.
 */
export const KNOWN_PUBLIC_SECRETS: readonly { sha256: string; what: string }[] = [
  // Keys shipped in Go's standard library sources (present in every image that carries the Go toolchain's src/).
  {
    sha256: 'd63cfe7d0783ea1dde58d51f2c76880a8125a1e0340895df7e678b4e3563689b',
    what: 'Go crypto/tls example_test.go: ExampleX509KeyPair EC key',
  },
  {
    sha256: '84d91305472401a105d855b8fb0630cded4335c5b934a1d4977cf2ebcee5c89c',
    what: 'Go net/http/internal/testcert: LocalhostKey (RSA)',
  },
  {
    sha256: '552b986839f516015de5e54c4d50d0cd01273f48abc135093f9a176916b40635',
    what: 'Go crypto/tls handshake_test.go: RSA test key',
  },
  {
    sha256: '08c6467b86fc6afb31ee3d01f6c2ffc388cda13c7602381c1635c55bd2d30b46',
    what: 'Go crypto/tls handshake_test.go: EC test key',
  },
  {
    sha256: '2e23962e2769045131642fe986df5aa5836852a13dd23c80965fd2fc8106a948',
    what: 'Go crypto/tls handshake_test.go: Ed25519 (PKCS #8) test key',
  },
  {
    sha256: '411c04efc1020e1cfd226bff2817bf79eecfe7918f54e63c37345185a3d9a7bd',
    what: 'Go crypto/tls handshake_server_test.go: RSA test key',
  },
  // CPython's ssl test keys (Lib/test/certdata/, cpython commits 58cf0f9a, 1298e83c, 327f806a), shipped with every
  // full Python install under lib/python3.N/test/ and often copied into application test trees.
  {
    sha256: 'acd783aea0b1c420177d4274ad8d65cccd28df60070130aea2518c4be6194cdc',
    what: 'CPython Lib/test/certdata/keycert.pem (RSA, also ssl_key.pem)',
  },
  {
    sha256: 'a5bcec4ac345315fc7297c539eacf6666e2dbe41a24563773c552d18165debe1',
    what: 'CPython Lib/test/certdata/pycakey.pem (test CA)',
  },
  {
    sha256: 'e869574df910ca080cf4efc0342da36c6dcec9ad3f245fcf99be8e3698aca38f',
    what: 'CPython Lib/test/certdata/keycertecc.pem (EC)',
  },
  // The example and public GCP API keys gitleaks' gcp-api-key rule allows (config/gitleaks.toml at GITLEAKS_COMMIT).
  {
    sha256: 'f56e323494a6ffc2064e7a955908957d84f0755e5f975dabd64328d0359a8f7c',
    what: 'gitleaks gcp-api-key allowlist entry 1 (documented example key)',
  },
  {
    sha256: '2037abcaffb2b77785da716cf7ccff4ff4d00c4ea930db0167b7d71f50af7eb4',
    what: 'gitleaks gcp-api-key allowlist entry 2 (documented example key)',
  },
  {
    sha256: '3f370c9dd8225c63b5c77de1f785edc9712958f18bb612d5fa2e0ae33aeca682',
    what: 'gitleaks gcp-api-key allowlist entry 3 (documented example key)',
  },
  {
    sha256: 'e4a5542bb7fd7b67e943c71ad29c34b5972c9840597e7eda53e666f44d5da0b9',
    what: 'gitleaks gcp-api-key allowlist entry 4 (documented example key)',
  },
  {
    sha256: 'a19f89ab3555eac10c40741f6df79ecf0935998f15569f8db9d67bce0181fff6',
    what: 'gitleaks gcp-api-key allowlist entry 5 (documented example key)',
  },
  {
    sha256: '0b476bdf9acf2123d547b5ae76f1e59884d8ec9553ee0c47e9f31fd4768f3f3c',
    what: 'gitleaks gcp-api-key allowlist entry 6 (documented example key)',
  },
  {
    sha256: 'eb540d2b6ee2a0a47c5779bc8a0141784c6b753840d4c6f4e2428a6e86e9e0b1',
    what: 'gitleaks gcp-api-key allowlist entry 7 (documented example key)',
  },
  {
    sha256: '37f8f09bdf12c2f2eae4ead7273a62ddb0c23459cbf902892f282b57f7ed6619',
    what: 'gitleaks gcp-api-key allowlist entry 8 (documented example key)',
  },
  {
    sha256: '8731261cb72d86267a32a532ebd3df429e2144e5e4ced7e13568bc9e6c8fb1b1',
    what: 'gitleaks gcp-api-key allowlist entry 9 (documented example key)',
  },
  {
    sha256: '49f777db995e8260da7ca9ffdf0c08d66f0453e97ec967018baf2cdfe3b582d0',
    what: 'gitleaks gcp-api-key allowlist entry 10 (documented example key)',
  },
  {
    sha256: '27a9a42931dff7eb2f8434e20a9bce976ea364e7bee49187f19d5cfeca9c7045',
    what: 'gitleaks gcp-api-key allowlist entry 11 (documented example key)',
  },
  {
    sha256: 'dc0fcf046c61640cbd1e8b999ada3262d722c2ca4bf42dceac999020ffdbb614',
    what: 'gitleaks gcp-api-key allowlist entry 12 (documented example key)',
  },
  {
    sha256: '4c98242dcadc8b29005c6b4aad526552d5ea1842149154c0694adeec75847583',
    what: 'gitleaks gcp-api-key allowlist entry 13 (documented example key)',
  },
  {
    sha256: 'ea9bb1082cf95663f5faca23b8b15ef2aa0fce0a5c6df9c32dcb85b2e0a4513d',
    what: 'gitleaks gcp-api-key allowlist entry 14 (documented example key)',
  },
  {
    sha256: '3a8b61d0f636b007840c0d40ba12bcf48465dc054cdc1a68704a33521d84b665',
    what: 'gitleaks gcp-api-key allowlist entry 15 (documented example key)',
  },
  {
    sha256: 'a6c814bc555ae62c7bd8b58ec07bf559c7ed3a009976a1e0acc9cef0d4473b41',
    what: 'gitleaks gcp-api-key allowlist entry 16 (documented example key)',
  },
  // AWS documentation's example credentials (the key id AKIAIOSFODNN7EXAMPLE is allowed by the rule itself).
  {
    sha256: '78314b11be2e581549ac1c4f616563fad3fdf0c3b71678f6e2299182080e0598',
    what: 'AWS documentation example secret access key',
  },
];

/**
 * What is hashed, shown and fingerprinted: a PEM body without its line breaks, real or escaped (`\n` in a JSON
 * service-account file), which differ between copies of the same key; anything else as is.
 */
export function normaliseSecret(secret: string): string {
  return /\s|\\[nr]/.test(secret) ? secret.replace(/(?:\s|\\[nr])+/g, '') : secret;
}

const KNOWN = new Set(KNOWN_PUBLIC_SECRETS.map((k) => k.sha256));

export function isKnownPublicSecret(secret: string): boolean {
  return KNOWN.has(createHash('sha256').update(normaliseSecret(secret)).digest('hex'));
}
