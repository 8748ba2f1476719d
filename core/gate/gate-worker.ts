// A gate thread (core/gate/gate-pool.ts is the other end): judges the instructions it is sent with the same pure
// checkInstruction() and sends back the result, or the error as plain fields (a WingmanError keeps its code, message
// and details; anything else becomes WGM_ERR_INTERNAL on the other side, so a failure never reads as an approval).
import { parentPort } from 'node:worker_threads';
import { isWingmanError } from '../errors.js';
import { checkInstruction, type GateResult } from './check-instruction.js';

export interface GateRequest {
  id: number;
  instruction: unknown;
}

export interface GateWireError {
  code?: string;
  message: string;
  details?: Record<string, unknown>;
}

export type GateReply = { id: number; ok: true; result: GateResult } | { id: number; ok: false; error: GateWireError };

parentPort!.on('message', (m: GateRequest) => {
  checkInstruction(m.instruction).then(
    (result) => parentPort!.postMessage({ id: m.id, ok: true, result } satisfies GateReply),
    (err: unknown) => {
      const error: GateWireError = isWingmanError(err)
        ? { code: err.code, message: err.message, ...(err.details ? { details: err.details } : {}) }
        : { message: err instanceof Error ? err.message : String(err) };
      parentPort!.postMessage({ id: m.id, ok: false, error } satisfies GateReply);
    },
  );
});
