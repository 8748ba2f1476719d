// checkInstruction() beside the sidecar's event loop. Under load the gate was a third of the sidecar's main thread
// (profile of `npm run bench -- gate`: the loop ~93% busy, checkInstruction 34% of it), and that loop also parses
// HTTP, talks to Postgres and Redis and answers: judging on other cores lets it keep up. A thread costs memory and a
// hop, so the pool starts its threads only once checks come in faster than a trickle, and stops them when they have
// been idle a while; below that, and on a single core, the gate runs in the process as before.
//
// The result is the same pure function's, cloned across (plain data). Errors keep their meaning: a WingmanError
// comes back with its code, message and details (WGM_ERR_GATE_INVALID stays a 400); anything else, a thread that
// dies with checks in flight included, is WGM_ERR_INTERNAL (500): never an approval.
import os from 'node:os';
import { Worker } from 'node:worker_threads';
import { WingmanError, wingmanError, type ErrorCode, ERRORS } from '../errors.js';
import type { Logger } from '../log.js';
import { loadOnce } from '../util/load-once.js';
import type { GateResult } from './check-instruction.js';
import type { GateReply, GateRequest, GateWireError } from './gate-worker.js';

// Loaded on the first check, not at start (an idle sidecar does not hold the gate's tables and the secret scanner);
// every check awaits it, and one that cannot load is WGM_ERR_INTERNAL: nothing is judged without it.
const loadGate = loadOnce('the instruction gate', () => import('./check-instruction.js'));

export interface GatePoolOptions {
  /** threads at most (default: one per core beyond the first, up to 4; 0 = always in the process) */
  threads?: number;
  /** checks per second from which threads are used (default 20: below it the gate costs the loop little) */
  startRate?: number;
  /** a thread with nothing to do for this long is stopped (default 30 s) */
  idleMs?: number;
  log?: Logger;
}

interface Job {
  resolve: (r: GateResult) => void;
  reject: (err: unknown) => void;
}

class GateThread {
  readonly jobs = new Map<number, Job>();
  lastUsed = Date.now();
  private readonly worker: Worker;
  private gone = false;

  constructor(
    private readonly onGone: (t: GateThread) => void,
    private readonly log?: Logger,
  ) {
    this.worker = new Worker(new URL('./gate-worker.js', import.meta.url));
    // Like a socket with a request out: the thread keeps the process alive only while a check waits for it.
    this.worker.unref();
    this.worker.on('message', (m: GateReply) => {
      const job = this.jobs.get(m.id);
      if (!job) return;
      this.jobs.delete(m.id);
      if (this.jobs.size === 0) this.worker.unref();
      if (m.ok) job.resolve(m.result);
      else job.reject(unwire(m.error));
    });
    const fail = (why: string) => {
      if (this.gone) return;
      this.gone = true;
      if (this.jobs.size) this.log?.error({ err: why, checks: this.jobs.size }, 'gate thread stopped with checks in flight');
      for (const job of this.jobs.values()) job.reject(wingmanError('WGM_ERR_INTERNAL', `gate thread stopped: ${why}`));
      this.jobs.clear();
      this.onGone(this);
    };
    this.worker.on('error', (err) => fail(err.message));
    this.worker.on('exit', (code) => fail(`exit ${code}`));
  }

  check(id: number, instruction: unknown): Promise<GateResult> {
    this.lastUsed = Date.now();
    return new Promise<GateResult>((resolve, reject) => {
      this.jobs.set(id, { resolve, reject });
      if (this.jobs.size === 1) this.worker.ref();
      this.worker.postMessage({ id, instruction } satisfies GateRequest);
    });
  }

  stop(): Promise<number> {
    return this.worker.terminate();
  }
}

/** A WingmanError as it was thrown in the thread; anything else as an internal error. */
function unwire(e: GateWireError): WingmanError {
  if (e.code && Object.hasOwn(ERRORS, e.code)) {
    const err = new WingmanError(e.code as ErrorCode, undefined, e.details);
    err.message = e.message;
    return err;
  }
  return wingmanError('WGM_ERR_INTERNAL', `gate failed: ${e.message.slice(0, 300)}`);
}

export class GatePool {
  private readonly threads: GateThread[] = [];
  private readonly max: number;
  private readonly startRate: number;
  private readonly idleMs: number;
  private nextId = 1;
  private windowStart = 0;
  private windowCount = 0;
  private timer: NodeJS.Timeout | undefined;
  private closed = false;

  constructor(private readonly o: GatePoolOptions = {}) {
    this.max = Math.max(0, o.threads ?? Math.min(4, os.availableParallelism() - 1));
    this.startRate = o.startRate ?? 20;
    this.idleMs = o.idleMs ?? 30_000;
  }

  /** threads running now */
  get size(): number {
    return this.threads.length;
  }

  /** Judge an instruction: in a thread under load, else here. Throws like checkInstruction(). */
  check(instruction: unknown): Promise<GateResult> {
    const thread = this.pick();
    if (!thread) return loadGate().then(({ checkInstruction }) => checkInstruction(instruction));
    return thread.check(this.nextId++, instruction);
  }

  async close(): Promise<void> {
    this.closed = true;
    clearInterval(this.timer);
    await Promise.all(this.threads.splice(0).map((t) => t.stop()));
  }

  private pick(): GateThread | undefined {
    if (this.max === 0 || this.closed) return undefined;
    const now = Date.now();
    if (now - this.windowStart >= 1_000) {
      this.windowStart = now;
      this.windowCount = 0;
    }
    this.windowCount++;
    if (this.threads.length === 0 && this.windowCount < this.startRate) return undefined;
    // The least busy thread; another one while every thread has work and the pool may grow.
    let best = this.threads[0];
    for (const t of this.threads) if (t.jobs.size < best.jobs.size) best = t;
    if (!best || (best.jobs.size > 0 && this.threads.length < this.max)) best = this.spawn();
    return best;
  }

  private spawn(): GateThread {
    const t = new GateThread((gone) => {
      const i = this.threads.indexOf(gone);
      if (i !== -1) this.threads.splice(i, 1);
    }, this.o.log);
    this.threads.push(t);
    if (!this.timer) {
      // Idle threads are stopped: a sidecar that is quiet again gives their memory back.
      this.timer = setInterval(() => this.reap(), Math.max(1_000, Math.min(this.idleMs, 10_000)));
      this.timer.unref();
    }
    return t;
  }

  private reap(): void {
    const now = Date.now();
    for (const t of [...this.threads]) {
      if (t.jobs.size === 0 && now - t.lastUsed >= this.idleMs) {
        this.threads.splice(this.threads.indexOf(t), 1);
        void t.stop();
      }
    }
    if (this.threads.length === 0) {
      clearInterval(this.timer);
      this.timer = undefined;
    }
  }
}
