// The keys auth uses, each derived by HKDF-SHA256 from the server's one secret (SERVER.md section 7: LADING_SECRET_KEY
// "yields, through HKDF, the token pepper ..."). Separate keys per purpose mean that a session id hash can never be
// replayed as a token HMAC or a CSRF token.
import { hkdfSync } from 'node:crypto';

export interface AuthKeys {
  /** HMAC key for API token secrets. */
  tokenPepper: Uint8Array;
  /** HMAC key for session ids (the database stores only this hash). */
  sessionPepper: Uint8Array;
  /** HMAC key from which each session's CSRF token is derived. */
  csrfKey: Uint8Array;
}

function derive(secret: Uint8Array, info: string): Uint8Array {
  return new Uint8Array(hkdfSync('sha256', secret, new Uint8Array(0), `lading-server/${info}`, 32));
}

export function deriveAuthKeys(serverSecret: Uint8Array): AuthKeys {
  if (serverSecret.length < 32) throw new Error('the server secret key must be at least 32 bytes');
  return {
    tokenPepper: derive(serverSecret, 'api-token-pepper/v1'),
    sessionPepper: derive(serverSecret, 'session-id/v1'),
    csrfKey: derive(serverSecret, 'csrf/v1'),
  };
}
