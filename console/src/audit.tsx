// The record: Docker calls (filters, search, pages from the server, rows linking to their approval), claims with
// verdicts and evidence, gate decisions, output validations with findings. Pages are keyset pages: "Newer" walks
// back the cursors this view was given.
import { useEffect, useState } from 'preact/hooks';
import type { ClaimRow, DockerAuditRow, GateRow, ValidationRow } from '../../control/api-schema.js';
import { AUDIT_DECISIONS, GATE_DECISIONS, VALIDATION_DECISIONS, VERDICTS } from '../../control/api-values.js';
import type { Session } from './app.js';
import { isoFromLocal, json, utc } from './format.js';
import { AuditRows } from './workers.js';

const TABS = [
  ['docker', 'Docker calls'],
  ['claims', 'Claims'],
  ['gate', 'Gate decisions'],
  ['validations', 'Output validations'],
] as const;

interface Filters {
  worker: string;
  rule: string;
  decision: string;
  from: string;
  to: string;
  q: string;
}
const EMPTY: Filters = { worker: '', rule: '', decision: '', from: '', to: '', q: '' };

type Page = { rows: unknown[]; next: string | null };

async function fetchPage(session: Session, tab: string, f: Filters, cursor: string | undefined): Promise<Page> {
  const common = {
    worker: f.worker.trim() || undefined,
    from: isoFromLocal(f.from),
    to: isoFromLocal(f.to),
    cursor,
    limit: 50,
  };
  const q = f.q.trim() || undefined;
  const decision = f.decision || undefined;
  switch (tab) {
    case 'claims': {
      const r = await session.api.claims({ ...common, q, verdict: decision as ClaimRow['verdict'] & string });
      return { rows: r.claims, next: r.next };
    }
    case 'gate': {
      const r = await session.api.gate({ ...common, q, decision: decision as GateRow['decision'] });
      return { rows: r.decisions, next: r.next };
    }
    case 'validations': {
      const r = await session.api.validations({ ...common, decision: decision as ValidationRow['decision'] });
      return { rows: r.validations, next: r.next };
    }
    default: {
      const r = await session.api.dockerAudit({ ...common, q, decision, rule: f.rule.trim() || undefined });
      return { rows: r.audit, next: r.next };
    }
  }
}

function decisionChoices(tab: string): readonly string[] {
  return tab === 'claims' ? [...VERDICTS, 'PENDING'] : tab === 'gate' ? GATE_DECISIONS : tab === 'validations' ? VALIDATION_DECISIONS : AUDIT_DECISIONS;
}

export function AuditView(props: { session: Session; tab: string }) {
  const tab = TABS.some(([t]) => t === props.tab) ? props.tab : 'docker';
  const [draft, setDraft] = useState<Filters>(EMPTY);
  const [applied, setApplied] = useState<Filters>(EMPTY);
  const [cursors, setCursors] = useState<Array<string | undefined>>([undefined]);
  const [page, setPage] = useState<Page | undefined>();
  const [error, setError] = useState('');

  useEffect(() => {
    setDraft(EMPTY);
    setApplied(EMPTY);
    setCursors([undefined]);
  }, [tab]);

  useEffect(() => {
    let stale = false;
    setPage(undefined);
    fetchPage(props.session, tab, applied, cursors[cursors.length - 1]).then(
      (p) => !stale && (setPage(p), setError('')),
      (err) => !stale && setError((err as Error).message),
    );
    return () => {
      stale = true;
    };
  }, [tab, applied, cursors]);

  const set = (k: keyof Filters) => (e: Event) => setDraft({ ...draft, [k]: (e.currentTarget as HTMLInputElement).value });

  return (
    <section aria-labelledby="audit-h">
      <h1 id="audit-h">Audit</h1>
      <nav class="tabs" aria-label="Records">
        {TABS.map(([t, label]) => (
          <a key={t} href={`#/audit/${t}`} aria-current={t === tab ? 'page' : undefined}>
            {label}
          </a>
        ))}
      </nav>
      <form
        class="filters"
        role="search"
        aria-label="Filter"
        onSubmit={(e) => {
          e.preventDefault();
          setApplied(draft);
          setCursors([undefined]);
        }}
      >
        <label>
          Worker
          <input value={draft.worker} onInput={set('worker')} maxLength={63} />
        </label>
        {tab === 'docker' && (
          <label>
            Rule
            <input value={draft.rule} onInput={set('rule')} maxLength={100} placeholder="e.g. ContainerDelete" />
          </label>
        )}
        <label>
          {tab === 'claims' ? 'Verdict' : 'Decision'}
          <select value={draft.decision} onChange={set('decision')}>
            <option value="">any</option>
            {decisionChoices(tab).map((d) => (
              <option key={d} value={d}>
                {d}
              </option>
            ))}
          </select>
        </label>
        <label>
          From
          <input type="datetime-local" value={draft.from} onInput={set('from')} />
        </label>
        <label>
          To
          <input type="datetime-local" value={draft.to} onInput={set('to')} />
        </label>
        {tab !== 'validations' && (
          <label>
            Search
            <input type="search" value={draft.q} onInput={set('q')} maxLength={200} />
          </label>
        )}
        <button type="submit">Apply filters</button>
      </form>
      {error && <p class="error" role="alert">{error}</p>}
      {!page ? (
        <p>Loading…</p>
      ) : tab === 'claims' ? (
        <ClaimRows rows={page.rows as ClaimRow[]} />
      ) : tab === 'gate' ? (
        <GateRows rows={page.rows as GateRow[]} />
      ) : tab === 'validations' ? (
        <ValidationRows rows={page.rows as ValidationRow[]} />
      ) : (
        <AuditRows rows={page.rows as DockerAuditRow[]} />
      )}
      <nav class="pager" aria-label="Pages">
        <button type="button" disabled={cursors.length <= 1} onClick={() => setCursors(cursors.slice(0, -1))}>
          Newer
        </button>
        <span>Page {cursors.length}</span>
        <button type="button" disabled={!page?.next} onClick={() => page?.next && setCursors([...cursors, page.next])}>
          Older
        </button>
      </nav>
    </section>
  );
}

function Details(props: { summary: string; value: unknown }) {
  return (
    <details>
      <summary>{props.summary}</summary>
      <pre>{json(props.value)}</pre>
    </details>
  );
}

function ClaimRows(props: { rows: ClaimRow[] }) {
  if (props.rows.length === 0) return <p class="empty">No claims match.</p>;
  return (
    <table aria-label="Claims">
      <thead>
        <tr>
          <th scope="col">Logged</th>
          <th scope="col">Worker</th>
          <th scope="col">Claim</th>
          <th scope="col">Verdict</th>
          <th scope="col">Evidence</th>
        </tr>
      </thead>
      <tbody>
        {props.rows.map((c) => (
          <tr key={c.id}>
            <td class="when">{utc(c.logged_at)}</td>
            <td>{c.worker}</td>
            <td>
              <strong>{c.type}</strong> <code>{json(c.params).slice(0, 200)}</code>
              {c.raw_text && <div class="reason">“{c.raw_text}”</div>}
            </td>
            <td class={`verdict verdict-${c.verdict ?? 'pending'}`}>
              {c.verdict ?? 'pending'}
              {c.reason && <div class="reason">{c.reason}</div>}
            </td>
            <td>{c.evidence && Object.keys(c.evidence).length ? <Details summary={c.verifier ?? 'evidence'} value={c.evidence} /> : ''}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

function GateRows(props: { rows: GateRow[] }) {
  if (props.rows.length === 0) return <p class="empty">No gate decisions match.</p>;
  return (
    <table aria-label="Gate decisions">
      <thead>
        <tr>
          <th scope="col">Decided</th>
          <th scope="col">Worker</th>
          <th scope="col">Decision</th>
          <th scope="col">Score</th>
          <th scope="col">Problems</th>
          <th scope="col">Instruction</th>
        </tr>
      </thead>
      <tbody>
        {props.rows.map((g) => (
          <tr key={g.id}>
            <td class="when">{utc(g.decided_at)}</td>
            <td>{g.worker}</td>
            <td class={`decision decision-${g.decision}`}>{g.decision}</td>
            <td>{g.score}</td>
            <td>
              {(g.missing_sections as string[]).length ? <div>missing: {(g.missing_sections as string[]).join(', ')}</div> : null}
              {(g.violations as Array<{ rule: string; excerpt?: string }>).map((v, i) => (
                <div key={i}>
                  violation {v.rule}
                  {v.excerpt ? `: ${v.excerpt}` : ''}
                </div>
              ))}
            </td>
            <td>
              <Details summary={g.instruction.slice(0, 60)} value={g.instruction} />
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

function ValidationRows(props: { rows: ValidationRow[] }) {
  if (props.rows.length === 0) return <p class="empty">No output validations match.</p>;
  return (
    <table aria-label="Output validations">
      <thead>
        <tr>
          <th scope="col">Time</th>
          <th scope="col">Worker</th>
          <th scope="col">Decision</th>
          <th scope="col">Score</th>
          <th scope="col">Findings</th>
          <th scope="col">Approval</th>
        </tr>
      </thead>
      <tbody>
        {props.rows.map((v) => (
          <tr key={v.id}>
            <td class="when">{utc(v.created_at)}</td>
            <td>{v.worker ?? '(none)'}</td>
            <td class={`decision decision-${v.decision}`}>{v.decision}</td>
            <td>{v.score}</td>
            <td>
              {v.findings.length === 0 ? (
                'none'
              ) : (
                <ul class="findings">
                  {(v.findings as Array<{ severity?: string; message?: string; file?: string; line?: number; rule?: string }>).slice(0, 20).map((f, i) => (
                    <li key={i}>
                      <strong>{f.severity ?? ''}</strong> {f.file ? `${f.file}${f.line ? `:${f.line}` : ''} ` : ''}
                      {f.message ?? f.rule ?? json(f)}
                    </li>
                  ))}
                </ul>
              )}
            </td>
            <td>{v.approval_id ? <a href={`#/approvals/${v.approval_id}`}>approval</a> : ''}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
