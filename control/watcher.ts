// The watcher: consumes events through a consumer group and reacts without a human in the loop.
// FALSE verdict → (1) lock the worker down, (2) alert ops; the entry is acked only after both are durable, and both
// steps are idempotent (lockdown by state, alerts by a dedupe key per verdict), so a restart misses nothing and
// repeats nothing, and two watchers never alert twice for one verdict. Also: lost sidecar heartbeats (alert +
// lockdown), N gate rejections in a row (alert), UNVERIFIABLE verdicts (a periodic digest, never a page).
// Alerts to the same worker within WINGMAN_ALERT_GROUP_S are folded into one follow-up summary; lockdown is never
// skipped by grouping. The store is re-read for every decision: the event only says where to look.
import os from 'node:os';
import type { Bus, BusEvent, Consumer } from '../core/bus/bus.js';

/** The topics the watcher consumes. */
type WatchedEvent = BusEvent<'claim.verified' | 'gate.decided' | 'worker.heartbeat'>;
import type { Config } from '../core/config.js';
import type { Lockdowns } from '../core/lockdown/lockdowns.js';
import type { Logger } from '../core/log.js';
import type { Metrics } from '../core/metrics.js';
import type { Db, Queryable } from '../core/store/db.js';
import type { Outbox } from '../core/telegram/outbox.js';
import { clip, oneLine, utc } from '../core/telegram/message-text.js';

type Severity = 'critical' | 'warning' | 'info';
type AlertKind = 'false_claim' | 'heartbeat_lost' | 'gate_rejections' | 'unverifiable_digest' | 'grouped';

interface VerdictRow {
  verdict_id: string;
  claim_id: string;
  worker: string;
  verdict: string;
  reason: string;
  evidence: unknown;
  claim_type: string;
  params: Record<string, unknown>;
  raw_text: string | null;
  created_at: Date;
}

export interface WatcherOptions {
  db: Db;
  bus: Bus;
  log: Logger;
  metrics: Metrics;
  lockdowns: Lockdowns;
  /** undefined when Telegram is off: alerts are still recorded (and logged), not sent */
  outbox?: Outbox;
  config: Pick<Config, 'heartbeatTimeoutS' | 'gateRejectAlert' | 'alertGroupS' | 'digestIntervalS' | 'lockdownAction'>;
  consumerName?: string;
  /** how long an unacked entry of a dead watcher waits before another one takes it over (default 15 s) */
  reclaimIdleMs?: number;
}

export function describeClaim(type: string, params: Record<string, unknown>, raw: string | null): string {
  const p = params ?? {};
  const what = (p.path ?? p.name ?? p.port ?? (Array.isArray(p.argv) ? (p.argv as unknown[]).join(' ') : undefined) ?? p.total) as
    | string
    | number
    | undefined;
  const base = what !== undefined ? `${type} ${String(what)}` : type;
  return raw ? `${base} ("${clip(oneLine(raw), 300)}")` : base;
}

export class Watcher {
  private consumer: Consumer | undefined;
  private timers: NodeJS.Timeout[] = [];
  private readonly name: string;

  constructor(private readonly o: WatcherOptions) {
    this.name = o.consumerName ?? `${os.hostname()}-${process.pid}`;
  }

  start(): void {
    // Alert latency: from the event behind the alert (the verdict's time) to the Bot API's ok:true.
    this.o.outbox?.onSent('alert', async (tx, row) => {
      const id = row.dedupe_key.startsWith('alert:') ? row.dedupe_key.slice(6) : undefined;
      if (!id) return;
      const { rows } = await tx.query<{ source_at: Date; severity: string }>(`SELECT source_at, severity FROM alerts WHERE id = $1`, [id]);
      if (rows[0] && rows[0].severity === 'critical') {
        this.o.metrics.alertLatency.observe(Math.max(0, Date.now() - new Date(rows[0].source_at).getTime()) / 1000);
      }
      this.o.metrics.alertsSent.inc({ status: 'sent' });
    });
    this.consumer = this.o.bus.consume({
      group: 'watcher',
      consumer: this.name,
      topics: ['claim.verified', 'gate.decided', 'worker.heartbeat'],
      handler: (e) => this.handle(e),
      reclaimIdleMs: this.o.reclaimIdleMs ?? 15_000,
    });
    const every = (ms: number, fn: () => Promise<void>) => {
      const t = setInterval(() => void fn().catch((err) => this.o.log.warn({ err: (err as Error).message }, 'watcher sweep failed')), ms);
      t.unref();
      this.timers.push(t);
    };
    every(2_000, () => this.checkHeartbeats());
    every(Math.max(1, Math.min(this.o.config.alertGroupS, 5)) * 1000, () => this.flushGroups());
    every(this.o.config.digestIntervalS * 1000, () => this.digest());
  }

  async stop(): Promise<void> {
    for (const t of this.timers) clearInterval(t);
    this.timers = [];
    await this.consumer?.stop();
  }

  async handle(e: WatchedEvent): Promise<void> {
    if (e.topic === 'claim.verified') {
      const claimId = e.data.claim_id;
      if (!/^[0-9a-f-]{36}$/i.test(claimId)) return; // malformed event: nothing to re-read, nothing to do
      const { rows } = await this.o.db.query<VerdictRow>(
        `SELECT v.id AS verdict_id, v.claim_id, v.worker, v.verdict, v.reason, v.evidence, v.claim_type, v.created_at,
                c.params, c.raw_text
           FROM verdicts v JOIN claims c ON c.id = v.claim_id WHERE v.claim_id = $1`,
        [claimId],
      );
      const v = rows[0];
      if (!v) throw new Error(`verdict for claim ${claimId} not visible yet`); // retried via the pending list
      if (v.verdict === 'FALSE') await this.onFalse(v);
    } else if (e.topic === 'gate.decided') {
      await this.onGateDecided(e.data.worker, e.data.instruction_id);
    } else if (e.topic === 'worker.heartbeat') {
      // Only the time is recorded. The container a lockdown pauses is a security field that ops set (POST
      // /workers): a heartbeat anyone on the bus can send must not point lockdown at another container.
      const worker = e.data.worker;
      await this.o.db.query(
        `INSERT INTO workers (name, last_heartbeat_at) VALUES ($1, now())
         ON CONFLICT (name) DO UPDATE SET last_heartbeat_at = now()`,
        [worker],
      );
    }
  }

  private async onFalse(v: VerdictRow): Promise<void> {
    const claim = describeClaim(v.claim_type, v.params, v.raw_text);
    const lock = await this.o.lockdowns.lock(v.worker, `FALSE claim: ${clip(claim, 200)}`, 'watcher', { claimId: v.claim_id });
    const action = this.o.config.lockdownAction;
    const containerLine = lock.container.ok
      ? action === 'none'
        ? 'Lockdown applied (Docker calls refused, /check answers 423; container left running by configuration).'
        : `Lockdown applied (Docker calls refused, /check answers 423, container ${action === 'pause' ? 'paused' : 'stopped'}).`
      : `Lockdown applied (Docker calls refused, /check answers 423); container action failed: ${lock.container.detail ?? 'unknown'}.`;
    const text = [
      `🚨 FALSE claim by worker ${v.worker}`,
      `Claim: ${claim}`,
      `Evidence: ${clip(oneLine(v.reason), 600)}`,
      `Verdict at: ${utc(v.created_at)}`,
      containerLine,
      `Release: /unlock ${v.worker} (approvers, here) or \`wingman unlock ${v.worker}\` or POST /workers/${v.worker}/unlock`,
    ].join('\n');
    await this.alert('false_claim', 'critical', v.worker, `verdict:${v.verdict_id}`, v.created_at, text, { claim_id: v.claim_id });
  }

  /** Record an alert (idempotent by dedupe key) and send it now, or fold it into the worker's group summary. */
  async alert(kind: AlertKind, severity: Severity, worker: string, dedupeKey: string, sourceAt: Date, text: string, detail: object = {}): Promise<void> {
    const sendNow = await this.o.db.transaction(async (tx) => {
      const existing = await tx.query<{ id: string; grouped: boolean }>(`SELECT id, grouped FROM alerts WHERE dedupe_key = $1`, [dedupeKey]);
      if (existing.rows[0]) return existing.rows[0].grouped ? undefined : existing.rows[0].id; // redelivery: re-enqueue is a no-op
      await tx.query(`INSERT INTO alert_groups (worker) VALUES ($1) ON CONFLICT (worker) DO NOTHING`, [worker]);
      const g = await tx.query<{ recent: boolean }>(
        `SELECT (last_sent_at IS NOT NULL AND last_sent_at > now() - make_interval(secs => $2)) AS recent
           FROM alert_groups WHERE worker = $1 FOR UPDATE`,
        [worker, this.o.config.alertGroupS],
      );
      const grouped = severity === 'critical' && kind === 'false_claim' && g.rows[0].recent;
      const ins = await tx.query<{ id: string }>(
        `INSERT INTO alerts (dedupe_key, worker, severity, kind, source_at, grouped, text, detail)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id`,
        [dedupeKey, worker, severity, kind, sourceAt, grouped, text, JSON.stringify(detail)],
      );
      if (grouped) return undefined;
      if (kind === 'false_claim') await tx.query(`UPDATE alert_groups SET last_sent_at = now() WHERE worker = $1`, [worker]);
      await this.enqueue(tx, String(ins.rows[0].id), text);
      return String(ins.rows[0].id);
    });
    if (sendNow) {
      if (this.o.outbox) this.o.outbox.wake();
      else this.o.log.error({ worker, kind }, 'alert recorded but Telegram is off: nobody was paged');
    }
  }

  private async enqueue(q: Queryable, alertId: string, text: string): Promise<void> {
    if (!this.o.outbox) return;
    await this.o.outbox.enqueue('alert', { method: 'sendMessage', text }, `alert:${alertId}`, { q });
  }

  /** Send one summary per worker for the FALSE verdicts folded in during its window. */
  async flushGroups(): Promise<void> {
    const { rows } = await this.o.db.query<{ worker: string }>(
      `SELECT g.worker FROM alert_groups g
        WHERE (g.last_sent_at IS NULL OR g.last_sent_at <= now() - make_interval(secs => $1))
          AND EXISTS (SELECT 1 FROM alerts a WHERE a.worker = g.worker AND a.grouped AND a.id > g.summarized_upto)`,
      [this.o.config.alertGroupS],
    );
    for (const { worker } of rows) {
      await this.o.db.transaction(async (tx) => {
        const g = await tx.query<{ summarized_upto: string }>(`SELECT summarized_upto FROM alert_groups WHERE worker = $1 FOR UPDATE`, [worker]);
        const folded = await tx.query<{ id: string; text: string; source_at: Date }>(
          `SELECT id, text, source_at FROM alerts WHERE worker = $1 AND grouped AND id > $2 ORDER BY id`,
          [worker, g.rows[0].summarized_upto],
        );
        if (folded.rows.length === 0) return;
        const last = folded.rows[folded.rows.length - 1];
        const lines = folded.rows.slice(0, 20).map((r) => `• ${clip(oneLine(r.text.split('\n')[1] ?? r.text), 300)}`);
        const more = folded.rows.length > 20 ? `\n…and ${folded.rows.length - 20} more` : '';
        const text = `🚨 ${folded.rows.length} more FALSE claim(s) by worker ${worker} (grouped; the worker stays locked down):\n${lines.join('\n')}${more}\nRelease: /unlock ${worker}`;
        const ins = await tx.query<{ id: string }>(
          `INSERT INTO alerts (dedupe_key, worker, severity, kind, source_at, grouped, text, detail)
           VALUES ($1, $2, 'critical', 'grouped', $3, false, $4, $5) ON CONFLICT (dedupe_key) DO NOTHING RETURNING id`,
          [`group:${worker}:${last.id}`, worker, folded.rows[0].source_at, text, JSON.stringify({ alerts: folded.rows.map((r) => r.id) })],
        );
        if (ins.rows[0]) await this.enqueue(tx, String(ins.rows[0].id), text);
        await tx.query(`UPDATE alert_groups SET summarized_upto = $2, last_sent_at = now() WHERE worker = $1`, [worker, last.id]);
      });
      this.o.outbox?.wake();
    }
  }

  /** A sidecar that stopped sending heartbeats: its worker is unwatched, so it is locked down and ops are told. */
  async checkHeartbeats(): Promise<void> {
    const { rows } = await this.o.db.query<{ name: string; last: Date }>(
      `SELECT name, last_heartbeat_at AS last FROM workers
        WHERE last_heartbeat_at IS NOT NULL AND NOT locked AND last_heartbeat_at < now() - make_interval(secs => $1)`,
      [this.o.config.heartbeatTimeoutS],
    );
    for (const { name, last } of rows) {
      const reason = `sidecar heartbeat lost (last seen ${utc(last)})`;
      const lock = await this.o.lockdowns.lock(name, reason, 'watcher');
      const text = [
        `🚨 Sidecar of worker ${name} stopped sending heartbeats (last seen ${utc(last)}).`,
        `Its claims are no longer audited, so the worker was locked down${lock.container.ok ? '' : ` (container action failed: ${lock.container.detail ?? 'unknown'})`}.`,
        `Release: /unlock ${name} once the sidecar is back.`,
      ].join('\n');
      await this.alert('heartbeat_lost', 'critical', name, `heartbeat:${name}:${new Date(last).getTime()}`, new Date(), text);
    }
  }

  private async onGateDecided(worker: string, instructionId: string): Promise<void> {
    if (!worker) return;
    const n = this.o.config.gateRejectAlert;
    const { rows } = await this.o.db.query<{ id: string; approved: boolean }>(
      `SELECT id, approved FROM instructions WHERE worker = $1 ORDER BY created_at DESC, id DESC LIMIT $2`,
      [worker, n + 1],
    );
    const streak = rows.slice(0, n);
    // Alert once per streak: exactly when it reaches N (the one before it was approved, or there was none).
    if (streak.length === n && streak.every((r) => !r.approved) && (rows.length === n || rows[n].approved)) {
      const text = `⚠️ Worker ${worker}: ${n} instructions in a row were rejected by the gate (latest ${streak[0].id}). Someone may be probing the gate.`;
      await this.alert('gate_rejections', 'warning', worker, `gate:${worker}:${streak[0].id}`, new Date(), text, {
        instruction_id: instructionId || streak[0].id,
      });
    }
  }

  /** UNVERIFIABLE verdicts are summarised, not paged. */
  async digest(): Promise<void> {
    const since = await this.o.db.query<{ at: Date | null }>(`SELECT max(source_at) AS at FROM alerts WHERE kind = 'unverifiable_digest'`);
    const from = since.rows[0]?.at ?? new Date(0);
    const { rows } = await this.o.db.query<{ worker: string; n: string; upto: Date }>(
      `SELECT worker, count(*) AS n, max(created_at) AS upto FROM verdicts
        WHERE verdict = 'UNVERIFIABLE' AND created_at > $1 GROUP BY worker ORDER BY worker`,
      [from],
    );
    if (rows.length === 0) return;
    const upto = rows.reduce((m, r) => (r.upto > m ? r.upto : m), rows[0].upto);
    const text = `ℹ️ Unverifiable claims since ${utc(from)}:\n${rows.map((r) => `• ${r.worker}: ${r.n}`).join('\n')}\n(Claims Wingman could not check; not a lie, but not proven either.)`;
    await this.alert('unverifiable_digest', 'info', '*', `digest:${new Date(upto).getTime()}`, upto, text);
  }
}
