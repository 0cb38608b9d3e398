/** What a registry login resolves to: a user/password pair or an identity token for the token endpoint. */
export type Credentials = { username: string; password: string } | { identityToken: string };

export function isIdentityToken(c: Credentials): c is { identityToken: string } {
  return 'identityToken' in c;
}
