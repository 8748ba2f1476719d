// Sign-in with the ops API token. The token is checked with one API call and then kept in memory only; the name
// (who decisions are recorded as) is remembered in this browser, being no secret.
import { useState } from 'preact/hooks';
import { Api, ApiError } from './api.js';

const NAME_KEY = 'wingman.console.name';

export function SignIn(props: { message: string; onSignedIn(api: Api, name: string): void }) {
  const [token, setToken] = useState('');
  const [name, setName] = useState(() => localStorage.getItem(NAME_KEY) ?? '');
  const [error, setError] = useState('');
  const [busy, setBusy] = useState(false);

  const submit = async (ev: Event) => {
    ev.preventDefault();
    setError('');
    const who = name.trim();
    if (!who) return setError('Say who you are: decisions are recorded with your name.');
    const api = new Api(token.trim());
    setBusy(true);
    try {
      await api.workers();
      localStorage.setItem(NAME_KEY, who);
      setToken('');
      props.onSignedIn(api, who);
    } catch (err) {
      setError(err instanceof ApiError && err.status === 401 ? 'That token was refused. It is in WINGMAN_API_TOKEN, or the api-token file `wingman up` printed.' : `Cannot reach the control API: ${(err as Error).message}`);
    } finally {
      setBusy(false);
    }
  };

  return (
    <main class="signin">
      <h1>Wingman console</h1>
      <p>Approve held Docker calls, watch workers, investigate the record.</p>
      {props.message && <p role="status">{props.message}</p>}
      <form method="post" onSubmit={(ev) => void submit(ev)} aria-label="Sign in">
        <label for="token">API token</label>
        <input id="token" name="password" type="password" autocomplete="current-password" required value={token} onInput={(e) => setToken(e.currentTarget.value)} />
        <label for="name">Your name</label>
        <input id="name" name="username" autocomplete="username" required maxLength={100} value={name} onInput={(e) => setName(e.currentTarget.value)} />
        {error && (
          <p class="error" role="alert">
            {error}
          </p>
        )}
        <button type="submit" disabled={busy}>
          Sign in
        </button>
      </form>
    </main>
  );
}
