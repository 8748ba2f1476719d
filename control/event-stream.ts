// GET /events: server-sent events for the ops console. One bus watch for the whole app (a watch per page would
// open a Redis connection per page) fans out to every open stream. An event says only what changed (topic, id,
// worker, status); the page fetches the thing itself, so the bus is never trusted with a decision. The first
// event, `ready`, is sent once the watch is reading: a page loads its lists after it and misses nothing.
import type { ServerResponse } from 'node:http';
import type { FastifyInstance } from 'fastify';
import type { Bus, BusEvent, Unwatch } from '../core/bus/bus.js';
import { STREAM_TOPICS } from './api-values.js';

const KEEPALIVE_MS = 15_000;

function pick(e: BusEvent): Record<string, string> {
  const out: Record<string, string> = { topic: e.topic };
  // Only our own short fields pass: no free text from the bus reaches a page.
  // Topics carry these fields or not (and with different meanings): each value is checked below, whatever its topic.
  const data: { id?: unknown; worker?: unknown; status?: unknown } = e.data;
  for (const k of ['id', 'worker', 'status'] as const) {
    const v = data[k];
    if (typeof v === 'string' && /^[A-Za-z0-9_.:-]{1,80}$/.test(v)) out[k] = v;
  }
  return out;
}

export interface EventStream {
  /** open streams (for tests and metrics) */
  readonly size: number;
  close(): void;
}

export function registerEventStream(server: FastifyInstance, deps: { bus: Bus }): EventStream {
  const clients = new Set<ServerResponse>();
  let unwatch: Unwatch | undefined;
  let keepalive: NodeJS.Timeout | undefined;
  const send = (res: ServerResponse, event: string, data: unknown) => res.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);

  const start = () => {
    unwatch ??= deps.bus.watch([...STREAM_TOPICS], (e) => {
      const data = pick(e);
      for (const res of clients) send(res, 'change', data);
    });
    keepalive ??= setInterval(() => {
      for (const res of clients) res.write(': keepalive\n\n');
    }, KEEPALIVE_MS);
    keepalive.unref();
    return unwatch.ready;
  };

  // Watching from the start: a page's `ready` then waits for nothing (the inbox's first paint waits on it).
  void start();

  server.get('/events', async (req, reply) => {
    const ready = start();
    reply.hijack();
    const res = reply.raw;
    res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-store',
      'x-content-type-options': 'nosniff',
      connection: 'keep-alive',
    });
    res.write('retry: 1000\n\n');
    clients.add(res);
    req.raw.once('close', () => clients.delete(res));
    await ready;
    if (clients.has(res)) send(res, 'ready', { topics: STREAM_TOPICS });
  });

  const close = () => {
    for (const res of clients) res.end();
    clients.clear();
    unwatch?.();
    unwatch = undefined;
    if (keepalive) clearInterval(keepalive);
    keepalive = undefined;
  };
  // Open streams would keep server.close() waiting forever.
  server.addHook('preClose', async () => close());
  return {
    get size() {
      return clients.size;
    },
    close,
  };
}
