// The embedded store's own thread: PGlite (Postgres compiled to WASM) runs here, so parsing, planning and writing
// (the audit's INSERTs were a fifth of `wingman up`'s CPU under load) happen beside the proxy's event loop, not on
// it. core/store/pglite-db.ts is the other end: it sends one request at a time (PGlite is one connection) and
// keeps the Db interface. A transaction is BEGIN … COMMIT/ROLLBACK on this one connection, its statements tagged
// with the transaction's id so a statement of an ended transaction is refused rather than run outside it.
import { parentPort, workerData } from 'node:worker_threads';
import { PGlite, types } from '@electric-sql/pglite';

export type PgliteRequest =
  | { id: number; op: 'query'; sql: string; params?: unknown[]; tx?: number }
  | { id: number; op: 'exec'; sql: string; tx?: number }
  | { id: number; op: 'begin' }
  | { id: number; op: 'commit' | 'rollback'; tx: number }
  | { id: number; op: 'close' };

/** An error as it crosses threads: its message and its own plain fields (code, detail, … of a DatabaseError). */
export interface PgliteWireError {
  name: string;
  message: string;
  fields: Record<string, string | number | boolean>;
}

export type PgliteReply =
  | { id: number; ok: true; value?: unknown }
  | { id: number; ok: false; error: PgliteWireError }
  | { id: 0; ready: true }
  | { id: 0; ready: false; error: PgliteWireError };

export interface PgliteWorkerData {
  dataDir?: string;
}

// Same JS types as node-postgres returns (int8 as string, bytea as bytes; the main thread makes them Buffers). A
// bytea gets an ArrayBuffer of its own: a Buffer from Node's shared pool would copy the whole pool across threads.
const PG_COMPATIBLE_PARSERS = {
  [types.INT8]: (v: string) => v,
  [types.BYTEA]: (v: string) => new Uint8Array(Buffer.from(v.startsWith('\\x') ? v.slice(2) : v, 'hex')),
};

function wire(err: unknown): PgliteWireError {
  if (!(err instanceof Error)) return { name: 'Error', message: String(err), fields: {} };
  const fields: Record<string, string | number | boolean> = {};
  for (const [k, v] of Object.entries(err)) {
    if (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') fields[k] = v;
  }
  return { name: err.name, message: err.message, fields };
}

async function pgliteWorker(): Promise<void> {
  const port = parentPort;
  if (!port) throw new Error('pglite-worker runs as a worker thread');
  const { dataDir } = workerData as PgliteWorkerData;
  let pg: PGlite;
  try {
    pg = await PGlite.create(dataDir, { parsers: PG_COMPATIBLE_PARSERS });
  } catch (err) {
    port.postMessage({ id: 0, ready: false, error: wire(err) } satisfies PgliteReply);
    return;
  }
  let openTx = 0;
  let lastTx = 0;
  const checkTx = (tx: number | undefined) => {
    if ((tx ?? 0) !== openTx) {
      throw Object.assign(new Error(tx ? 'transaction handle used after the transaction ended' : 'a statement outside the open transaction'), {
        code: 'WGM_ERR_INTERNAL',
      });
    }
  };

  const handle = async (req: PgliteRequest): Promise<unknown> => {
    switch (req.op) {
      case 'query': {
        checkTx(req.tx);
        const r = await pg.query(req.sql, req.params);
        return { rows: r.rows, affectedRows: r.affectedRows };
      }
      case 'exec':
        checkTx(req.tx);
        await pg.exec(req.sql);
        return undefined;
      case 'begin':
        checkTx(undefined);
        await pg.exec('BEGIN');
        openTx = ++lastTx;
        return openTx;
      case 'commit':
      case 'rollback': {
        checkTx(req.tx);
        openTx = 0;
        try {
          await pg.exec(req.op === 'commit' ? 'COMMIT' : 'ROLLBACK');
        } catch (err) {
          // A failed COMMIT ends the transaction on the server; make sure none is left open either way.
          await pg.exec('ROLLBACK').catch(() => undefined);
          throw err;
        }
        return undefined;
      }
      case 'close':
        await pg.close();
        return undefined;
    }
  };

  // One request at a time, in the order sent: PGlite is one connection.
  let tail: Promise<void> = Promise.resolve();
  port.on('message', (req: PgliteRequest) => {
    tail = tail.then(async () => {
      let reply: PgliteReply;
      try {
        reply = { id: req.id, ok: true, value: await handle(req) };
      } catch (err) {
        reply = { id: req.id, ok: false, error: wire(err) };
      }
      try {
        port.postMessage(reply);
      } catch (err) {
        // A value structured clone cannot carry: the caller gets an error, not silence.
        port.postMessage({ id: req.id, ok: false, error: wire(err) } satisfies PgliteReply);
      }
    });
  });
  port.postMessage({ id: 0, ready: true } satisfies PgliteReply);
}

await pgliteWorker();
