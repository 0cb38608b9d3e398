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
  // AWS documentation's example credentials (the key id AKIAIOSFODNN7EXAMPLE is allowed by the rule itself).
  {
    sha256: '78314b11be2e581549ac1c4f616563fad3fdf0c3b71678f6e2299182080e0598',
    what: 'AWS documentation example secret access key',
  },
];

/** What is hashed: a PEM body without its whitespace (line breaks differ between copies), anything else as is. */
export function normaliseSecret(secret: string): string {
  return /\s/.test(secret) ? secret.replace(/\s+/g, '') : secret;
}

const KNOWN = new Set(KNOWN_PUBLIC_SECRETS.map((k) => k.sha256));

export function isKnownPublicSecret(secret: string): boolean {
  return KNOWN.has(createHash('sha256').update(normaliseSecret(secret)).digest('hex'));
}
