// The console's typed client for the control API. Types come from control/api-schema.ts, the same zod schemas the
// server validates with (type-only import: no zod in the page). The token lives in this object only: it is sent as
// `Authorization` and never put in a URL, a cookie, storage or a log.
import type {
  ApprovalAnswer,
  ApprovalsAnswer,
  ApprovalsQuery,
  ClaimsAnswer,
  ClaimsQuery,
  DecisionAnswer,
  DockerAuditAnswer,
  DockerAuditQuery,
  GateAnswer,
  GateQuery,
  StreamEvent,
  ValidationsAnswer,
  ValidationsQuery,
  WorkersAnswer,
} from '../../control/api-schema.js';

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

function qs(q: object): string {
  const p = new URLSearchParams();
  for (const [k, v] of Object.entries(q)) if (v !== undefined && v !== '' && v !== null) p.set(k, String(v));
  const s = p.toString();
  return s ? `?${s}` : '';
}

export interface WorkerDetail {
  worker: { name: string; locked: boolean; locked_reason: string | null; locked_at: string | null; locked_by: string | null };
  lockdown_events: Array<{ action: string; actor: string; reason: string | null; at: string }>;
}
export interface WorkerObjects {
  objects: Array<{ kind: string; id: string; name: string | null; source: string; created_at: string }>;
}

export class Api {
  readonly #token: string;

  constructor(token: string) {
    this.#token = token;
  }

  private async call<T>(method: string, path: string, body?: unknown, signal?: AbortSignal): Promise<T> {
    const res = await fetch(path, {
      method,
      headers: { authorization: `Bearer ${this.#token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
      credentials: 'omit',
      cache: 'no-store',
      signal,
    });
    const text = await res.text();
    let json: unknown;
    try {
      json = text ? JSON.parse(text) : {};
    } catch {
      json = { message: text.slice(0, 200) };
    }
    if (!res.ok) {
      const e = json as { code?: string; message?: string }; // the control API's error answer (core/errors.ts)
      throw new ApiError(res.status, String(e.code ?? 'WGM_ERR_HTTP'), String(e.message ?? res.statusText));
    }
    return json as T;
  }

  approvals(q: ApprovalsQuery): Promise<ApprovalsAnswer> {
    return this.call('GET', `/approvals${qs(q)}`);
  }
  approval(id: string): Promise<ApprovalAnswer> {
    return this.call('GET', `/approvals/${encodeURIComponent(id)}`);
  }
  answer(id: string, decision: 'approve' | 'deny', by: string, note?: string): Promise<DecisionAnswer> {
    return this.call('POST', `/approvals/${encodeURIComponent(id)}/${decision}`, { by, ...(note ? { note } : {}) });
  }
  workers(): Promise<WorkersAnswer> {
    return this.call('GET', '/workers');
  }
  worker(name: string): Promise<WorkerDetail> {
    return this.call('GET', `/workers/${encodeURIComponent(name)}`);
  }
  objects(name: string): Promise<WorkerObjects> {
    return this.call('GET', `/workers/${encodeURIComponent(name)}/objects`);
  }
  lock(name: string, by: string, why: string): Promise<unknown> {
    return this.call('POST', `/workers/${encodeURIComponent(name)}/lockdown`, { by, why });
  }
  unlock(name: string, by: string, why: string): Promise<unknown> {
    return this.call('POST', `/workers/${encodeURIComponent(name)}/unlock`, { by, why });
  }
  dockerAudit(q: DockerAuditQuery): Promise<DockerAuditAnswer> {
    return this.call('GET', `/audit/docker${qs(q)}`);
  }
  claims(q: ClaimsQuery): Promise<ClaimsAnswer> {
    return this.call('GET', `/audit/claims${qs(q)}`);
  }
  gate(q: GateQuery): Promise<GateAnswer> {
    return this.call('GET', `/audit/gate${qs(q)}`);
  }
  validations(q: ValidationsQuery): Promise<ValidationsAnswer> {
    return this.call('GET', `/audit/validations${qs(q)}`);
  }

  /**
   * Server-sent events, read over fetch so the token travels in a header (EventSource cannot send one).
   * Reconnects after a second when the stream drops; resolves when `signal` aborts or the token is refused.
   */
  async stream(handlers: { ready(): void; change(e: StreamEvent): void; state(s: 'live' | 'reconnecting' | 'refused'): void }, signal: AbortSignal): Promise<void> {
    while (!signal.aborted) {
      try {
        const res = await fetch('/events', { headers: { authorization: `Bearer ${this.#token}`, accept: 'text/event-stream' }, credentials: 'omit', cache: 'no-store', signal });
        if (res.status === 401) {
          handlers.state('refused');
          return;
        }
        if (!res.ok || !res.body) throw new Error(`events: ${res.status}`);
        const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
        let buf = '';
        for (;;) {
          const { value, done } = await reader.read();
          if (done) break;
          buf += value;
          let cut: number;
          while ((cut = buf.indexOf('\n\n')) >= 0) {
            const block = buf.slice(0, cut);
            buf = buf.slice(cut + 2);
            let event = 'message';
            let data = '';
            for (const line of block.split('\n')) {
              if (line.startsWith('event:')) event = line.slice(6).trim();
              else if (line.startsWith('data:')) data += line.slice(5).trim();
            }
            if (event === 'ready') {
              handlers.state('live');
              handlers.ready();
            } else if (event === 'change' && data) handlers.change(JSON.parse(data) as StreamEvent);
          }
        }
      } catch {
        if (signal.aborted) return;
      }
      handlers.state('reconnecting');
      await new Promise((r) => setTimeout(r, 1000));
    }
  }
}
