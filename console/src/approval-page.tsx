// One approval: its effect, its history (requested, partial approvals, the decision, consumed) and the Docker
// calls recorded against it. Audit rows link here.
import { useCallback, useEffect, useState } from 'preact/hooks';
import type { ApprovalAnswer } from '../../control/api-schema.js';
import type { Session } from './app.js';
import { json, utc } from './format.js';
import { ApprovalCard } from './inbox.js';
import { useLive } from './live.js';

export function ApprovalPage(props: { session: Session; id: string }) {
  const { session, id } = props;
  const [data, setData] = useState<ApprovalAnswer | undefined>();
  const [error, setError] = useState('');
  const load = useCallback(async () => {
    try {
      setData(await session.api.approval(id));
    } catch (err) {
      setError((err as Error).message);
    }
  }, [session.api, id]);
  useEffect(() => void load(), [load]);
  useLive(session.live, ['approval.decided', 'approval.updated', 'docker.executed'], (e) => (e.id === id || e.topic === 'docker.executed' ? void load() : undefined), () => void load());

  if (error) return <p class="error" role="alert">{error}</p>;
  if (!data) return <p>Loading…</p>;
  return (
    <section aria-labelledby="appr-h">
      <h1 id="appr-h">Approval {id}</h1>
      <ApprovalCard a={data.approval} session={session} now={Date.now()} onDecided={() => void load()} />
      <h2>History</h2>
      <ol class="events">
        {data.events.map((e, i) => (
          <li key={i}>
            <span class="when">{utc(e.at)}</span> <strong>{e.event}</strong> {e.actor ? `by ${e.actor}` : ''}{' '}
            {e.detail && Object.keys(e.detail).length ? <code>{json(e.detail).slice(0, 300)}</code> : null}
          </li>
        ))}
      </ol>
      <h2>Docker calls</h2>
      {data.calls && data.calls.length ? (
        <table>
          <thead>
            <tr>
              <th scope="col">Time</th>
              <th scope="col">Call</th>
              <th scope="col">Decision</th>
              <th scope="col">Status</th>
            </tr>
          </thead>
          <tbody>
            {data.calls.map((c) => (
              <tr key={c.id}>
                <td>{utc(c.at)}</td>
                <td>
                  <code>
                    {c.method} {c.path}
                  </code>
                </td>
                <td>{c.decision}</td>
                <td>{c.status_code ?? ''}</td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : (
        <p class="empty">No call recorded against it yet.</p>
      )}
    </section>
  );
}
