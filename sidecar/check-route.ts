// POST /check: the instruction gate. Judges the instruction (core/gate), stores the decision (append-only), publishes
// `gate.decided`. Only the gate's result, already redacted, is stored, logged or returned; the request body never is.
// A worker in lockdown gets 423 with the reason; when the lockdown state cannot be read, 503 (fail closed).
// An approved instruction starts a task: its baseline (core/claims/baseline-recorder) is captured now, and /check
// waits for it at most the baseline budget; the answer says how far it got.
// The gate itself (its rules, the shell parser, the secret scanner) loads on the first /check, not at start
// (core/gate/gate-pool.ts): each request awaits it before judging, and a gate that cannot load answers 500 (nothing
// is judged without it).
//
// Throughput without weakening any of that: the lock state comes from a cache the bus invalidates, but only to
// refuse early; the statement that stores the decision re-reads the lock and stores nothing for a locked worker
// (423). Decisions are group-committed (core/instructions/decision-batcher.ts): the answer waits for the commit
// that holds its row, never less. `gate.decided` is queued (core/bus/publish-queue.ts) once the row is committed:
// the event only wakes the watcher, which re-reads the store, so the answer does not wait for Redis. Under load the
// instruction is judged in a thread beside the event loop (core/gate/gate-pool.ts).
import type { FastifyInstance } from 'fastify';
import type { PublishQueue } from '../core/bus/publish-queue.js';
import type { BaselineRecorder } from '../core/claims/baseline-recorder.js';
import type { NewBaseline } from '../core/claims/task-baselines.js';
import { wingmanError } from '../core/errors.js';
import type { GatePool } from '../core/gate/gate-pool.js';
import type { DecisionBatcher } from '../core/instructions/decision-batcher.js';
import type { Logger } from '../core/log.js';
import type { WorkerLockCache } from '../core/lockdown/worker-lock-cache.js';
import type { Metrics } from '../core/metrics.js';

export interface CheckDeps {
  worker: string;
  decisions: DecisionBatcher;
  lock: WorkerLockCache;
  gate: GatePool;
  events: PublishQueue;
  log: Logger;
  metrics: Metrics;
  recorder?: BaselineRecorder;
}

function baselineSummary(b: NewBaseline | undefined) {
  if (!b) return { status: 'capturing' as const };
  return {
    status: b.status,
    files: Object.keys(b.files).length,
    test_files: Object.keys(b.test_files).length,
    test_count: b.test_count,
    duration_ms: Math.round(b.duration_ms),
    ...(b.reason ? { reason: b.reason } : {}),
  };
}

export function registerCheckRoute(server: FastifyInstance, deps: CheckDeps): void {
  const { worker, decisions, lock, gate, events, log, metrics, recorder } = deps;
  server.post('/check', async (req, reply) => {
    const started = performance.now();
    const body = req.body;
    let instruction: unknown;
    if (typeof body === 'string') instruction = body;
    else if (body && typeof body === 'object' && !Array.isArray(body) && 'instruction' in body) {
      const extra = Object.keys(body).filter((k) => k !== 'instruction');
      if (extra.length) throw wingmanError('WGM_ERR_GATE_INVALID', `unexpected field(s): ${extra.slice(0, 5).join(', ').slice(0, 200)}`);
      instruction = body.instruction;
    } else {
      throw wingmanError('WGM_ERR_GATE_INVALID', 'expected {"instruction": "<markdown>"} or {"instruction": {<sections>}}');
    }
    const w = await lock.get(); // no trusted answer and the store down → WGM_ERR_STORE_UNAVAILABLE → 503
    if (w.locked) {
      throw wingmanError('WGM_ERR_WORKER_LOCKED', `worker ${worker} is locked down: ${w.reason ?? 'no reason given'}`, { reason: w.reason });
    }
    const result = await gate.check(instruction); // bad shape → WGM_ERR_GATE_INVALID → 400
    // Committed before anything below runs; locked by now → 423, store down → 503, and nothing stored.
    const row = await decisions.record(result, new Date());
    let baseline: ReturnType<typeof baselineSummary> | undefined;
    if (result.approved && recorder) {
      const capture = recorder.start({ instructionId: row.id, start: new Date(row.decided_at), testProcess: row.test_process, sections: result.sections });
      const settled = await Promise.race([
        capture.done.catch(() => undefined),
        new Promise<undefined>((r) => {
          const timer = setTimeout(() => r(undefined), recorder.bounds.budgetMs);
          void capture.done.finally(() => clearTimeout(timer)).catch(() => undefined);
        }),
      ]);
      capture.answered();
      baseline = baselineSummary(settled);
    }
    metrics.gateDecisions.inc({ decision: result.decision });
    metrics.gateCheckDuration.observe((performance.now() - started) / 1000);
    const rules = [...new Set(result.violations.map((v) => v.rule))];
    log.info(
      { instruction_id: row.id, worker, decision: result.decision, score: result.score, missing: result.missing_sections, weak: result.weak_sections, rules },
      'gate decided',
    );
    events.publish('gate.decided', { instruction_id: row.id, worker, decision: result.decision, score: result.score, rules });
    return reply.send({
      instruction_id: row.id,
      approved: result.approved,
      decision: result.decision,
      score: result.score,
      missing_sections: result.missing_sections,
      weak_sections: result.weak_sections,
      weak_reasons: result.weak_reasons,
      violations: result.violations,
      ...(baseline ? { baseline } : {}),
    });
  });
}
