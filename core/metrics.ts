// Every metric Wingman exposes is defined here, on one Registry per app instance (registering twice throws).
// Label values must come from bounded sets (decisions, rule ids from the policy table, verdicts), never from input.
import { createRequire } from 'node:module';
import type * as PromClient from 'prom-client';
import { deferCjs } from './util/defer-cjs.js';

// prom-client requires the OpenTelemetry API at load time (51 modules) for exemplars, which Wingman does not enable:
// it is deferred (core/util/defer-cjs.ts) and loads only if something ever reads it. prom-client is required
// after that rather than imported (an import would load it first).
const fromHere = createRequire(import.meta.url);
deferCjs(createRequire(fromHere.resolve('prom-client')), '@opentelemetry/api', 'object');
const { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } = fromHere('prom-client') as typeof PromClient;

export function createMetrics(opts: { defaults?: boolean } = {}) {
  const registry = new Registry();
  if (opts.defaults !== false) collectDefaultMetrics({ register: registry, prefix: 'wingman_' });
  const r = [registry];
  const m = {
    registry,
    health: new Gauge({ name: 'wingman_health_status', help: '1 when every dependency answers, else 0', registers: r }),
    storeUp: new Gauge({ name: 'wingman_database_connected', help: '1 when the store answers', registers: r }),
    busUp: new Gauge({ name: 'wingman_bus_connected', help: '1 when the event bus answers', registers: r }),
    busEventsDropped: new Counter({
      name: 'wingman_bus_events_dropped_total',
      help: 'bus entries whose payload did not fit their topic (dropped at the edge, by topic)',
      labelNames: ['topic'] as const,
      registers: r,
    }),
    busPublishLost: new Counter({
      name: 'wingman_bus_publish_lost_total',
      help: 'events a publish queue gave up on (queue full during a bus outage, or left at shutdown), by topic',
      labelNames: ['topic'] as const,
      registers: r,
    }),
    startTime: new Gauge({ name: 'wingman_start_time_seconds', help: 'process start, unix seconds', registers: r }),
    proxyRequests: new Counter({
      name: 'wingman_proxy_requests_total',
      help: 'Docker API calls seen by the proxy, by rule and decision',
      labelNames: ['rule', 'decision'] as const,
      registers: r,
    }),
    proxyDuration: new Histogram({
      name: 'wingman_proxy_request_duration_seconds',
      help: 'time from request to response headers, excluding approval waits',
      labelNames: ['decision'] as const,
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1, 5],
      registers: r,
    }),
    approvals: new Counter({
      name: 'wingman_approvals_total',
      help: 'approvals by outcome',
      labelNames: ['outcome'] as const,
      registers: r,
    }),
    approvalsPending: new Gauge({ name: 'wingman_approvals_pending', help: 'calls held for a decision', registers: r }),
    queueRounds: new Counter({
      name: 'wingman_queue_rounds_total',
      help: 'rounds of a background queue (core/queue/drain-loop.ts), by queue and outcome (work, idle, error)',
      labelNames: ['queue', 'outcome'] as const,
      registers: r,
    }),
    queueBacklog: new Gauge({
      name: 'wingman_queue_backlog',
      help: 'items a background queue has not finished, as the queue counts them',
      labelNames: ['queue'] as const,
      registers: r,
    }),
    auditSpooled: new Gauge({
      name: 'wingman_audit_spooled',
      help: 'audit records waiting in the local spool for the store',
      registers: r,
    }),
    gateDecisions: new Counter({
      name: 'wingman_gate_decisions_total',
      help: 'instruction gate decisions',
      labelNames: ['decision'] as const,
      registers: r,
    }),
    claims: new Counter({ name: 'wingman_claims_total', help: 'claims logged', registers: r }),
    claimsSpooled: new Gauge({
      name: 'wingman_claims_spooled',
      help: 'claims on the sidecar\'s local disk that the store does not hold yet',
      registers: r,
    }),
    claimVerification: new Histogram({
      name: 'wingman_claim_verification_seconds',
      help: 'time to verify one claim, by claim type',
      labelNames: ['type'] as const,
      buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 5, 30, 120],
      registers: r,
    }),
    baselineCapture: new Histogram({
      name: 'wingman_baseline_capture_seconds',
      help: 'time to record the worker\'s task-start baseline after an approved /check, by outcome',
      labelNames: ['status'] as const,
      buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 120],
      registers: r,
    }),
    gateCommitBatch: new Histogram({
      name: 'wingman_gate_commit_batch_size',
      help: 'gate decisions stored by one statement and commit (group commit in the sidecar)',
      buckets: [1, 2, 4, 8, 16, 32, 64],
      registers: r,
    }),
    gateCheckDuration: new Histogram({
      name: 'wingman_gate_check_duration_seconds',
      help: 'time to judge and record one instruction (/check)',
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1],
      registers: r,
    }),
    verdicts: new Counter({
      name: 'wingman_verdicts_total',
      help: 'claim verdicts by type and verdict',
      labelNames: ['type', 'verdict'] as const,
      registers: r,
    }),
    alertLatency: new Histogram({
      name: 'wingman_alert_latency_seconds',
      help: 'from verdict written to the Bot API answering ok:true',
      buckets: [0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30],
      registers: r,
    }),
    alertsSent: new Counter({
      name: 'wingman_alerts_sent_total',
      help: 'alerts by delivery status',
      labelNames: ['status'] as const,
      registers: r,
    }),
    lockdowns: new Counter({ name: 'wingman_lockdowns_total', help: 'lockdowns applied', registers: r }),
    workersLocked: new Gauge({ name: 'wingman_workers_locked', help: 'workers currently locked down', registers: r }),
    telegramSends: new Counter({
      name: 'wingman_telegram_requests_total',
      help: 'Bot API requests by method and outcome',
      labelNames: ['method', 'outcome'] as const,
      registers: r,
    }),
    telegramOutboxUnsent: new Gauge({
      name: 'wingman_telegram_outbox_unsent',
      help: 'Telegram outbox rows not yet delivered (pending or in flight)',
      registers: r,
    }),
    telegramOutboxLatency: new Histogram({
      name: 'wingman_telegram_outbox_delivery_seconds',
      help: 'from a message entering the Telegram outbox to the Bot API answering ok:true, by outbox kind',
      labelNames: ['kind'] as const,
      buckets: [0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 120],
      registers: r,
    }),
    telegramDecisions: new Counter({
      name: 'wingman_telegram_decisions_total',
      help: 'approval decisions attempted from Telegram, by outcome',
      labelNames: ['outcome'] as const,
      registers: r,
    }),
    validations: new Counter({
      name: 'wingman_output_validations_total',
      help: 'output validation decisions',
      labelNames: ['decision'] as const,
      registers: r,
    }),
  };
  m.startTime.set(Math.floor(Date.now() / 1000));
  return m;
}

export type Metrics = ReturnType<typeof createMetrics>;
