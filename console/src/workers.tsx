// Workers: each one's state (running, or locked down and why), last heartbeat, pending calls, objects; one worker's
// page adds its objects, recent Docker calls, lockdown history and Lock / Unlock.
import { useCallback, useEffect, useState } from 'preact/hooks';
import type { DockerAuditRow, WorkerView } from '../../control/api-schema.js';
import type { WorkerDetail, WorkerObjects } from './api.js';
import type { Session } from './app.js';
import { ago, shortId, utc } from './format.js';
import { useLive } from './live.js';

function State(props: { w: { locked: boolean; locked_reason: string | null } }) {
  return props.w.locked ? (
    <span class="state locked">Locked down: {props.w.locked_reason ?? 'no reason given'}</span>
  ) : (
    <span class="state running">Running</span>
  );
}

export function WorkersView(props: { session: Session }) {
  const { session } = props;
  const [workers, setWorkers] = useState<WorkerView[] | undefined>();
  const [error, setError] = useState('');
  const [now, setNow] = useState(Date.now());
  const load = useCallback(async () => {
    try {
      setWorkers((await session.api.workers()).workers);
      setNow(Date.now());
    } catch (err) {
      setError((err as Error).message);
    }
  }, [session.api]);
  useEffect(() => void load(), [load]);
  useLive(session.live, ['worker.*', 'approval.requested', 'approval.decided'], () => void load(), () => void load());

  return (
    <section aria-labelledby="workers-h">
      <h1 id="workers-h">Workers</h1>
      {error && <p class="error" role="alert">{error}</p>}
      {!workers ? (
        <p>Loading…</p>
      ) : workers.length === 0 ? (
        <p class="empty">No workers yet: `wingman workers add NAME`.</p>
      ) : (
        <table>
          <thead>
            <tr>
              <th scope="col">Worker</th>
              <th scope="col">State</th>
              <th scope="col">Last heartbeat</th>
              <th scope="col">Pending</th>
              <th scope="col">Objects</th>
              <th scope="col">Docker host</th>
            </tr>
          </thead>
          <tbody>
            {workers.map((w) => (
              <tr key={w.name} data-worker={w.name}>
                <th scope="row">
                  <a href={`#/workers/${encodeURIComponent(w.name)}`}>{w.name}</a>
                </th>
                <td>
                  <State w={w} />
                </td>
                <td>{ago(w.last_heartbeat_at, now)}</td>
                <td>{w.pending_approvals ?? 0}</td>
                <td>{w.objects ?? 0}</td>
                <td>{w.socket && <code>export DOCKER_HOST=unix://{w.socket}</code>}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}

export function WorkerPage(props: { session: Session; name: string }) {
  const { session, name } = props;
  const [detail, setDetail] = useState<WorkerDetail | undefined>();
  const [objects, setObjects] = useState<WorkerObjects['objects']>([]);
  const [calls, setCalls] = useState<DockerAuditRow[]>([]);
  const [why, setWhy] = useState('');
  const [error, setError] = useState('');
  const [busy, setBusy] = useState(false);

  const load = useCallback(async () => {
    try {
      const [d, o, c] = await Promise.all([session.api.worker(name), session.api.objects(name), session.api.dockerAudit({ worker: name, limit: 20 })]);
      setDetail(d);
      setObjects(o.objects);
      setCalls(c.audit);
      setError('');
    } catch (err) {
      setError((err as Error).message);
    }
  }, [session.api, name]);
  useEffect(() => void load(), [load]);
  useLive(session.live, ['worker.locked', 'worker.unlocked', 'docker.executed'], (e) => (e.worker === name ? void load() : undefined), () => void load());

  const act = async (what: 'lock' | 'unlock') => {
    setBusy(true);
    setError('');
    try {
      const reason = why.trim() || (what === 'unlock' ? 'released from the console' : '');
      if (!reason) {
        setError('Say why you lock it down: the reason is recorded and shown.');
        return;
      }
      await (what === 'lock' ? session.api.lock(name, session.name, reason) : session.api.unlock(name, session.name, reason));
      setWhy('');
      session.announce(`${name} ${what === 'lock' ? 'locked down' : 'unlocked'}`);
      await load();
    } catch (err) {
      setError((err as Error).message);
    } finally {
      setBusy(false);
    }
  };

  if (!detail) return error ? <p class="error" role="alert">{error}</p> : <p>Loading…</p>;
  const w = detail.worker;
  return (
    <section aria-labelledby="worker-h">
      <h1 id="worker-h">Worker {w.name}</h1>
      <p>
        <State w={w} />
        {w.locked && w.locked_by ? ` (by ${w.locked_by}, ${utc(w.locked_at)})` : ''}
      </p>
      <form class="lock" onSubmit={(e) => e.preventDefault()}>
        <label for="why">Reason</label>
        <input id="why" value={why} maxLength={2000} placeholder={w.locked ? 'optional' : 'required'} onInput={(e) => setWhy(e.currentTarget.value)} />
        {w.locked ? (
          <button type="button" disabled={busy} onClick={() => void act('unlock')}>
            Unlock
          </button>
        ) : (
          <button type="button" class="deny" disabled={busy} onClick={() => void act('lock')}>
            Lock
          </button>
        )}
      </form>
      {error && <p class="error" role="alert">{error}</p>}
      <h2>Objects</h2>
      {objects.length === 0 ? (
        <p class="empty">Owns no objects.</p>
      ) : (
        <table aria-label="Objects">
          <thead>
            <tr>
              <th scope="col">Kind</th>
              <th scope="col">Id</th>
              <th scope="col">Name</th>
              <th scope="col">How</th>
            </tr>
          </thead>
          <tbody>
            {objects.map((o) => (
              <tr key={`${o.kind}:${o.id}`}>
                <td>{o.kind}</td>
                <td>
                  <code>{shortId(o.id)}</code>
                </td>
                <td>{o.name ?? ''}</td>
                <td>{o.source}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <h2>Recent Docker calls</h2>
      <AuditRows rows={calls} />
      <h2>Lockdown history</h2>
      {detail.lockdown_events.length === 0 ? (
        <p class="empty">Never locked down.</p>
      ) : (
        <ol class="events">
          {detail.lockdown_events.map((e, i) => (
            <li key={i}>
              <span class="when">{utc(e.at)}</span> <strong>{e.action}</strong> by {e.actor}
              {e.reason ? `: ${e.reason}` : ''}
            </li>
          ))}
        </ol>
      )}
    </section>
  );
}

export function AuditRows(props: { rows: DockerAuditRow[] }) {
  if (props.rows.length === 0) return <p class="empty">No calls match.</p>;
  return (
    <table aria-label="Docker calls" class="audit">
      <thead>
        <tr>
          <th scope="col">Time</th>
          <th scope="col">Worker</th>
          <th scope="col">Call</th>
          <th scope="col">Rule</th>
          <th scope="col">Decision</th>
          <th scope="col">Status</th>
          <th scope="col">Approval</th>
        </tr>
      </thead>
      <tbody>
        {props.rows.map((r) => (
          <tr key={r.id}>
            <td class="when">{utc(r.at)}</td>
            <td>{r.worker}</td>
            <td>
              <code>
                {r.method} {r.path}
              </code>
              {r.reason && <div class="reason">{r.reason}</div>}
            </td>
            <td>{r.rule}</td>
            <td class={`decision decision-${r.decision}`}>{r.decision}</td>
            <td>{r.status_code ?? ''}</td>
            <td>{r.approval_id ? <a href={`#/approvals/${r.approval_id}`}>{r.approved_by ?? 'approval'}</a> : ''}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
