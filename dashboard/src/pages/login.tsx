// Password sign-in. The server sets the session cookie and returns the CSRF token for later unsafe requests.
import { useState } from 'preact/hooks';
import { ApiError, api } from '../api.js';
import type { Me, PageProps } from '../app.js';

export default function Login(props: PageProps & { onSignedIn?: (me: Me) => void; notice?: string | undefined }) {
  const [error, setError] = useState<string>();
  const [busy, setBusy] = useState(false);
  const submit = async (event: Event) => {
    event.preventDefault();
    const form = new FormData(event.currentTarget as HTMLFormElement);
    setBusy(true);
    setError(undefined);
    try {
      const me = await api<Me>('/auth/login', {
        method: 'POST',
        body: { login: String(form.get('login') ?? ''), password: String(form.get('password') ?? '') },
      });
      props.onSignedIn?.(me);
    } catch (err) {
      setError(err instanceof ApiError && err.status === 401 ? 'Wrong login or password.' : (err as Error).message);
    } finally {
      setBusy(false);
    }
  };
  return (
    <section class="login">
      <h1>Sign in to Lading</h1>
      {props.notice && (
        <p role="status" class="notice" data-login-notice>
          {props.notice}
        </p>
      )}
      <form onSubmit={submit}>
        <label for="login">Login</label>
        <input id="login" name="login" autoComplete="username" required />
        <label for="password">Password</label>
        <input id="password" name="password" type="password" autoComplete="current-password" required />
        {error && (
          <p role="alert" class="error">
            {error}
          </p>
        )}
        <button type="submit" disabled={busy}>
          {busy ? 'Signing in…' : 'Sign in'}
        </button>
      </form>
    </section>
  );
}
