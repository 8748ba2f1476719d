// The console shell: sign-in, the live event stream, navigation (hash routes, so the server serves one page),
// and the views. A signed-in session is this page's memory only: reloading the page asks for the token again.
import { useEffect, useMemo, useState } from 'preact/hooks';
import { Api } from './api.js';
import { ApprovalPage } from './approval-page.js';
import { AuditView } from './audit.js';
import { Inbox } from './inbox.js';
import { Live } from './live.js';
import { SignIn } from './sign-in.js';
import { WorkerPage, WorkersView } from './workers.js';

export interface Session {
  api: Api;
  /** who decisions are recorded as (`api:<name>`) */
  name: string;
  live: Live;
  announce(text: string): void;
}

function useHash(): string {
  const [hash, setHash] = useState(location.hash || '#/');
  useEffect(() => {
    const on = () => setHash(location.hash || '#/');
    addEventListener('hashchange', on);
    return () => removeEventListener('hashchange', on);
  }, []);
  return hash;
}

export function App() {
  const [signedIn, setSignedIn] = useState<{ api: Api; name: string } | undefined>();
  const [state, setState] = useState<'connecting' | 'live' | 'reconnecting' | 'refused'>('connecting');
  const [message, setMessage] = useState('');
  const [pending, setPending] = useState<number | undefined>();
  const live = useMemo(() => new Live(), []);
  const hash = useHash();

  useEffect(() => {
    if (!signedIn) return;
    const ctl = new AbortController();
    void signedIn.api.stream(
      {
        ready: () => live.emitReady(),
        change: (e) => live.emitChange(e),
        state: (s) => {
          if (s !== 'live') live.lost();
          setState(s);
          if (s === 'refused') {
            setSignedIn(undefined);
            setMessage('The token was refused; sign in again.');
          }
        },
      },
      ctl.signal,
    );
    return () => ctl.abort();
  }, [signedIn, live]);

  if (!signedIn) {
    return (
      <SignIn
        message={message}
        onSignedIn={(api, name) => {
          setMessage('');
          setState('connecting');
          setSignedIn({ api, name });
        }}
      />
    );
  }

  const session: Session = { ...signedIn, live, announce: setMessage };
  const [, section, arg] = hash.split('/');
  let view;
  if (section === 'approvals' && arg) view = <ApprovalPage session={session} id={decodeURIComponent(arg)} />;
  else if (section === 'workers' && arg) view = <WorkerPage session={session} name={decodeURIComponent(arg)} />;
  else if (section === 'workers') view = <WorkersView session={session} />;
  else if (section === 'audit') view = <AuditView session={session} tab={arg ?? 'docker'} />;
  else view = <Inbox session={session} onCount={setPending} />;
  const current = section === 'workers' ? 'workers' : section === 'audit' ? 'audit' : section === 'approvals' ? '' : 'inbox';

  return (
    <>
      <header class="top">
        <span class="brand">Wingman</span>
        <nav aria-label="Sections">
          <a href="#/" aria-current={current === 'inbox' ? 'page' : undefined}>
            Inbox{pending !== undefined ? ` (${pending})` : ''}
          </a>
          <a href="#/workers" aria-current={current === 'workers' ? 'page' : undefined}>
            Workers
          </a>
          <a href="#/audit" aria-current={current === 'audit' ? 'page' : undefined}>
            Audit
          </a>
        </nav>
        <span class={`conn conn-${state}`} role="status" aria-label="Connection">
          {state === 'live' ? '● live' : state === 'reconnecting' ? '○ reconnecting…' : '○ connecting…'}
        </span>
        <span class="who">{signedIn.name}</span>
        <button
          type="button"
          class="quiet"
          onClick={() => {
            setSignedIn(undefined);
            setMessage('Signed out.');
          }}
        >
          Sign out
        </button>
      </header>
      <p class="announce" role="status" aria-live="polite">
        {message}
      </p>
      <main>{view}</main>
    </>
  );
}
