// POST /check: the instruction gate. Judges the instruction (core/gate), stores the decision (append-only), publishes
// `gate.decided`. Only the gate's result, already redacted, is stored, logged or returned; the request body never is.
// A worker in lockdown gets 423 with the reason; when the lockdown state cannot be read, 503 (fail closed).
// An approved instruction starts a task: its baseline (core/claims/baseline-recorder) is captured now, and /check
// waits for it at most the baseline budget; the answer says how far it got.
// The gate itself (its rules, the shell parser, the secret scanner) loads on the first /check, not at start: each
// request awaits it before judging, and a gate that cannot load answers 500 (nothing is judged without it).
import type { FastifyInstance } from 'fastify';
import type { Bus } from '../core/bus/bus.js';
import type { BaselineRecorder } from '../core/claims/baseline-recorder.js';
import type { NewBaseline } from '../core/claims/task-baselines.js';
import { wingmanError } from '../core/errors.js';
import type { Instructions } from '../core/instructions/instructions.js';
import type { Logger } from '../core/log.js';
import type { Metrics } from '../core/metrics.js';
import type { Workers } from '../core/workers/workers.js';
import { loadOnce } from '../core/util/load-once.js';

const loadGate = loadOnce('the instruction gate', () => import('../core/gate/index.js'));

export interface CheckDeps {
  worker: string;
  instructions: Instructions;
  workers: Workers;
  bus: Bus;
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
  const { worker, instructions, workers, bus, log, metrics, recorder } = deps;
  server.post('/check', async (req, reply) => {
    const started = performance.now();
    const body = req.body;
    let instruction: unknown;
    if (typeof body === 'string') instruction = body;
    else if (body && typeof body === 'object' && !Array.isArray(body) && 'instruction' in body) {
      const extra = Object.keys(body).filter((k) => k !== 'instruction');
      if (extra.length) throw wingmanError('WGM_ERR_GATE_INVALID', `unexpected field(s): ${extra.slice(0, 5).join(', ').slice(0, 200)}`);
      instruction = (body).instruction;
    } else {
      throw wingmanError('WGM_ERR_GATE_INVALID', 'expected {"instruction": "<markdown>"} or {"instruction": {<sections>}}');
    }
    const w = await workers.get(worker); // store down → WGM_ERR_STORE_UNAVAILABLE → 503
    if (w?.locked) {
      throw wingmanError('WGM_ERR_WORKER_LOCKED', `worker ${worker} is locked down: ${w.locked_reason ?? 'no reason given'}`, {
        reason: w.locked_reason ?? null,
      });
    }
    const { checkInstruction } = await loadGate();
    const result = await checkInstruction(instruction); // bad shape → WGM_ERR_GATE_INVALID → 400
    const row = await instructions.record(worker, result, new Date());
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
    await bus
      .publish('gate.decided', { instruction_id: row.id, worker, decision: result.decision, score: result.score, rules })
      .catch((err) => log.warn({ err: (err as Error).message }, 'gate.decided not published'));
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
