// The inbox: pending approvals newest first, live. Each card shows the whole effect in words, why it was held, the
// time left and (two-person) how many have approved; Approve / Deny take an optional note. A decision made
// anywhere (here, Telegram, the CLI) moves the card to "Recently decided" as soon as the stream says so.
import { useCallback, useEffect, useState } from 'preact/hooks';
import type { ApprovalView, StreamEvent } from '../../control/api-schema.js';
import { ApiError } from './api.js';
import type { Session } from './app.js';
import { ago, timeLeft, utc } from './format.js';
import { useLive } from './live.js';

function useNow(ms = 1000): number {
  const [now, setNow] = useState(Date.now());
  useEffect(() => {
    // A clock for the countdowns, not a poll: nothing is fetched.
    const t = setInterval(() => setNow(Date.now()), ms);
    return () => clearInterval(t);
  }, [ms]);
  return now;
}

const newestFirst = (a: ApprovalView, b: ApprovalView) => Date.parse(b.requested_at) - Date.parse(a.requested_at);

export function outcome(a: ApprovalView): string {
  switch (a.status) {
    case 'approved':
    case 'consumed':
      return `Approved by ${a.decided_by ?? a.approvers.join(' + ')}`;
    case 'denied':
      return `Denied by ${a.decided_by ?? 'unknown'}${a.note ? `: ${a.note}` : ''}`;
    case 'expired':
      return 'Expired: nobody decided in time';
    case 'cancelled':
      return 'Cancelled: the call went away';
    default:
      return a.required_approvals > 1 ? `Waiting: ${a.approvers.length}/${a.required_approvals} approvals` : 'Waiting for a decision';
  }
}

export function Effect(props: { a: ApprovalView }) {
  return (
    <dl class="effect">
      {props.a.effect.map((l, i) => (
        <div key={i} class={`effect-${l.label.toLowerCase().replace(/[^a-z]+/g, '-')}`}>
          <dt>{l.label}</dt>
          <dd>{l.label === 'Command' ? <code>{l.value}</code> : l.value}</dd>
        </div>
      ))}
    </dl>
  );
}

export function ApprovalCard(props: { a: ApprovalView; session: Session; now: number; onDecided(a: ApprovalView): void }) {
  const { a, session } = props;
  const [note, setNote] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState('');
  const headingId = `h-${a.id}`;
  const answer = async (d: 'approve' | 'deny') => {
    setBusy(true);
    setError('');
    try {
      const r = await session.api.answer(a.id, d, session.name, note.trim() || undefined);
      props.onDecided(r.approval);
      session.announce(`${r.approval.status === 'pending' ? 'Approval recorded' : outcome(r.approval)} (${a.worker}: ${a.summary})`);
    } catch (err) {
      setError(err instanceof ApiError ? err.message : `Not sent: ${(err as Error).message}`);
    } finally {
      setBusy(false);
    }
  };
  const left = timeLeft(a.expires_at, props.now);
  return (
    <article class="card" aria-labelledby={headingId} data-approval={a.id}>
      <header>
        <h2 id={headingId}>
          <span class="worker">{a.worker}</span> wants to {a.summary}
        </h2>
        <p class="meta">
          <span class="rule">{a.rule}</span> · requested {ago(a.requested_at, props.now)} ·{' '}
          <span class={left === 'expired' ? 'expired' : 'left'} aria-label="Time left">
            {left === 'expired' ? 'expired' : `${left} left`}
          </span>
          {a.required_approvals > 1 && (
            <>
              {' '}
              · <span class="two-person" aria-label="Approvals so far">{`${a.approvers.length}/${a.required_approvals} approvals`}</span>
            </>
          )}
        </p>
      </header>
      <Effect a={a} />
      {a.reasons.length > 0 && (
        <section class="why" aria-label="Why it was held">
          <h3>Why it was held</h3>
          <ul>
            {a.reasons.map((r, i) => (
              <li key={i}>{r}</li>
            ))}
          </ul>
        </section>
      )}
      {a.approvers.length > 0 && <p class="approvers">Approved so far by {a.approvers.join(', ')}</p>}
      {a.status === 'pending' ? (
        <form class="decide" onSubmit={(e) => e.preventDefault()}>
          <label for={`note-${a.id}`}>Note</label>
          <input id={`note-${a.id}`} value={note} maxLength={2000} placeholder="optional: why" onInput={(e) => setNote(e.currentTarget.value)} />
          <button type="button" class="approve" disabled={busy} onClick={() => void answer('approve')}>
            Approve
          </button>
          <button type="button" class="deny" disabled={busy} onClick={() => void answer('deny')}>
            Deny
          </button>
          <a href={`#/approvals/${a.id}`}>Details</a>
        </form>
      ) : (
        <p class={`outcome outcome-${a.status}`}>{outcome(a)}</p>
      )}
      {error && (
        <p class="error" role="alert">
          {error}
        </p>
      )}
    </article>
  );
}

export function Inbox(props: { session: Session; onCount(n: number): void }) {
  const { session } = props;
  const [pending, setPending] = useState<ApprovalView[] | undefined>();
  const [decided, setDecided] = useState<ApprovalView[]>([]);
  const [error, setError] = useState('');
  const now = useNow();

  const load = useCallback(async () => {
    try {
      const r = await session.api.approvals({ status: 'pending', limit: 1000 });
      setPending(r.approvals.sort(newestFirst));
      setError('');
    } catch (err) {
      setError((err as Error).message);
    }
  }, [session.api]);

  // Loaded once the stream reads (its `ready`), so nothing decided between the load and the stream is missed;
  // a view opened later, with the stream already reading, loads at once.
  useEffect(() => {
    if (session.live.ready) void load();
  }, [load]);
  useEffect(() => props.onCount(pending?.length ?? 0), [pending?.length]);

  const settle = (a: ApprovalView) => {
    setPending((list) => {
      const rest = (list ?? []).filter((x) => x.id !== a.id);
      return a.status === 'pending' ? [...rest, a].sort(newestFirst) : rest;
    });
    if (a.status !== 'pending') setDecided((list) => [a, ...list.filter((x) => x.id !== a.id)].slice(0, 20));
  };

  useLive(
    session.live,
    ['approval.requested', 'approval.decided', 'approval.updated'],
    (e: StreamEvent) => {
      if (!e.id) return;
      // The stream only says which approval changed: read it from the API.
      session.api.approval(e.id).then((r) => settle(r.approval), () => undefined);
    },
    () => void load(),
  );

  return (
    <section aria-labelledby="inbox-h">
      <h1 id="inbox-h">Pending approvals</h1>
      {error && (
        <p class="error" role="alert">
          {error}
        </p>
      )}
      {pending === undefined ? (
        <p>Loading…</p>
      ) : pending.length === 0 ? (
        <p class="empty">Nothing is waiting for a decision.</p>
      ) : (
        <div class="cards" role="feed" aria-label="Pending approvals" aria-busy="false">
          {pending.map((a) => (
            <ApprovalCard key={a.id} a={a} session={session} now={now} onDecided={settle} />
          ))}
        </div>
      )}
      {decided.length > 0 && (
        <section aria-labelledby="decided-h" class="decided">
          <h2 id="decided-h">Recently decided</h2>
          <ul aria-label="Recently decided">
            {decided.map((a) => (
              <li key={a.id} data-approval={a.id}>
                <a href={`#/approvals/${a.id}`}>
                  {a.worker}: {a.summary}
                </a>{' '}
                — <span class={`outcome-${a.status}`}>{outcome(a)}</span> <span class="when">{utc(a.decided_at)}</span>
              </li>
            ))}
          </ul>
        </section>
      )}
    </section>
  );
}
