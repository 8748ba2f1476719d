// The one adapter around http-proxy (unmaintained since 2020, so it stays behind this file). We handle the
// response ourselves: http-proxy's web() does not flush response headers early, and `docker run` waits for the
// headers of /containers/{id}/wait before it starts the container. No timeouts: logs/events/attach are streams.
// A call with no request body (most of them: reads, starts, stops, removes) skips http-proxy: the same node:http
// request it would make is made here directly (the same bytes reach the engine), and a small sized answer goes to
// the client in one write. Bodies go through http-proxy.
import fs from 'node:fs';
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import { Readable } from 'node:stream';
import url from 'node:url';
import httpProxy from 'http-proxy';

const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'transfer-encoding', 'upgrade', 'proxy-connection', 'te', 'trailer']);

/** A sized answer up to this size is collected and written to the client at once (inspects, lists, versions). */
const COLLECT_MAX = 1024 * 1024;

function endToEnd(headers: http.IncomingHttpHeaders): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (const k in headers) {
    const v = headers[k];
    if (v !== undefined && !HOP_BY_HOP.has(k)) out[k] = v;
  }
  return out;
}

/**
 * The request path exactly as http-proxy puts it on the wire (url.parse's path, runs of '/' before the query
 * collapsed), so that a call reaches the engine byte for byte the same whichever way it is forwarded.
 */
export function wirePath(path: string): string {
  // url.parse is deprecated, and it is the very parse http-proxy applies: kept for identical bytes.
  const parsed = url.parse(path).path ?? '';
  const q = parsed.indexOf('?');
  const head = q === -1 ? parsed : parsed.slice(0, q);
  const joined = head.replace(/\/+/g, '/').replace('http:/', 'http://').replace('https:/', 'https://');
  return q === -1 ? joined : joined + parsed.slice(q);
}

/** No body to send: what the lean forward below takes. */
function bodiless(req: IncomingMessage): boolean {
  const len = req.headers['content-length'];
  return (len === undefined || Number(len) === 0) && req.headers['transfer-encoding'] === undefined;
}

export interface ForwardResult {
  status: number;
  bytesOut: number;
  /** the client went away before the response finished */
  aborted: boolean;
  /** the first bytes of the response body, when asked for (`capture`) */
  captured?: Buffer;
}

export interface ForwardOpts {
  path: string;
  /** send exactly these bytes (with a Content-Length) instead of the request's */
  body?: Buffer;
  /** send this spooled file (the request's body, already read and hashed) */
  bodyFile?: { path: string; bytes: number };
  /** keep up to this many bytes of the response body (ids of created objects, `Loaded image:` lines) */
  capture?: number;
  /**
   * Runs when the engine's answer is complete, before the client sees its end: what a create made is recorded
   * before the client can use it in its next call.
   */
  beforeEnd?: (status: number, captured: Buffer | undefined) => Promise<void>;
}

/** A whole upstream answer, read before anything goes to the client (lists Wingman filters). */
export interface Fetched {
  status: number;
  headers: Record<string, string | string[]>;
  body: Buffer;
}

export interface Forwarder {
  /** Forward to `path`; with `body`, send exactly those bytes (with a Content-Length) instead of the request's. */
  forward(req: IncomingMessage, res: ServerResponse, opts: ForwardOpts): Promise<ForwardResult>;
  /** Ask the engine and read its whole (small, sized) answer; the caller writes the response. */
  fetch(req: IncomingMessage, opts: { path: string; body?: Buffer }): Promise<Fetched>;
  close(): void;
}

export function createForwarder(
  upstreamSocket: string,
  /** lean: false sends every call through http-proxy (test/proxy/forward-lean.test.ts compares the two ways) */
  opts: { lean?: boolean } = {},
): Forwarder {
  const lean = opts.lean !== false;
  const agent = new http.Agent({ keepAlive: true, maxSockets: 512 });
  const proxy = httpProxy.createProxyServer({
    target: { socketPath: upstreamSocket } as unknown as httpProxy.ProxyTargetUrl,
    agent,
    selfHandleResponse: true,
    xfwd: false,
    proxyTimeout: 0,
    timeout: 0,
  });
  const pending = new WeakMap<ServerResponse, (proxyRes: IncomingMessage) => void>();
  proxy.on('proxyRes', (proxyRes: IncomingMessage, _req: IncomingMessage, res: ServerResponse) => {
    pending.get(res)?.(proxyRes);
  });

  /**
   * A call without a body, forwarded as http-proxy's web() would send it (its headers copied, its deleteLength pass,
   * its path), minus its machinery. The answer: a sized one up to COLLECT_MAX is collected and written in one go;
   * anything else (a stream, a large download) is relayed as it comes, headers first.
   */
  function leanForward(
    req: IncomingMessage,
    res: ServerResponse,
    path: string,
    settle: (fn: () => void) => void,
    resolve: (r: ForwardResult) => void,
    reject: (err: Error) => void,
  ): void {
    // As http-proxy sends it: its deleteLength pass on the request's headers, then a copy made with util._extend,
    // which walks them last to first (so they go out in that order).
    if ((req.method === 'DELETE' || req.method === 'OPTIONS') && !req.headers['content-length']) {
      req.headers['content-length'] = '0';
      delete req.headers['transfer-encoding'];
    }
    const headers: http.OutgoingHttpHeaders = {};
    const names = Object.keys(req.headers);
    for (let i = names.length - 1; i >= 0; i--) headers[names[i]] = req.headers[names[i]];
    let answered = false;
    let ended = false;
    let held: Buffer[] | undefined;
    const up = http.request({ socketPath: upstreamSocket, agent, method: req.method, path: wirePath(path), headers });
    // No answer from the engine: the call fails (the proxy answers 502). One that fails mid-answer cuts the client's
    // answer where the engine stopped (what was held back goes out first), as a relayed answer would be cut.
    const failed = (err: Error) => {
      if (!answered) {
        settle(() => reject(err));
        return;
      }
      if (ended || res.destroyed) return;
      ended = true; // ('error' and then 'close': cut once)
      if (held?.length) {
        // The headers and what came are flushed on the next tick: cut after that.
        res.write(Buffer.concat(held));
        setImmediate(() => res.destroy());
      } else res.destroy();
    };
    up.on('error', failed);
    // The caller left before the answer came: the engine's request is dropped (as http-proxy drops it).
    const onGone = () => {
      if (answered) return;
      up.destroy();
      settle(() => resolve({ status: 499, bytesOut: 0, aborted: true }));
    };
    res.once('close', onGone);
    up.on('response', (proxyRes: IncomingMessage) => {
      answered = true;
      res.off('close', onGone);
      const status = proxyRes.statusCode ?? 502;
      res.writeHead(status, proxyRes.statusMessage, endToEnd(proxyRes.headers));
      let bytesOut = 0;
      proxyRes.on('error', failed);
      proxyRes.once('end', () => (ended = true));
      // An engine connection that closes mid-answer ends the answer without an 'error' on Node 20.
      proxyRes.once('close', () => {
        if (!ended) failed(new Error('the docker engine closed the connection mid-answer'));
      });
      res.on('finish', () => settle(() => resolve({ status, bytesOut, aborted: false })));
      res.on('close', () => {
        if (!res.writableFinished) {
          proxyRes.destroy();
          settle(() => resolve({ status, bytesOut, aborted: true }));
        }
      });
      const len = proxyRes.headers['content-length'];
      if (len !== undefined && Number(len) <= COLLECT_MAX) {
        const chunks: Buffer[] = (held = []);
        proxyRes.on('data', (c: Buffer) => {
          bytesOut += c.length;
          chunks.push(c);
        });
        proxyRes.on('end', () => res.end(chunks.length === 1 ? chunks[0] : Buffer.concat(chunks)));
        return;
      }
      // A stream (wait, logs -f, events): its headers go out now.
      if (len === undefined) res.flushHeaders();
      proxyRes.on('data', (c: Buffer) => (bytesOut += c.length));
      proxyRes.pipe(res);
    });
    up.end();
  }

  return {
    forward(req, res, { path, body, bodyFile, capture, beforeEnd }) {
      return new Promise<ForwardResult>((resolve, reject) => {
        let settled = false;
        const settle = (fn: () => void) => {
          if (!settled) {
            settled = true;
            fn();
          }
        };
        req.url = path;
        delete req.headers['x-wingman-approval'];
        let buffer: Readable | undefined;
        if (body !== undefined) {
          delete req.headers['transfer-encoding'];
          req.headers['content-length'] = String(body.length);
          buffer = Readable.from(body.length ? [body] : []);
        } else if (bodyFile !== undefined) {
          delete req.headers['transfer-encoding'];
          req.headers['content-length'] = String(bodyFile.bytes);
          buffer = fs.createReadStream(bodyFile.path);
        }
        if (lean && buffer === undefined && !capture && !beforeEnd && bodiless(req)) {
          leanForward(req, res, path, settle, resolve, reject);
          return;
        }
        pending.set(res, (proxyRes) => {
          const status = proxyRes.statusCode ?? 502;
          const headers: Record<string, string | string[]> = {};
          for (const [k, v] of Object.entries(proxyRes.headers)) {
            if (v !== undefined && !HOP_BY_HOP.has(k)) headers[k] = v;
          }
          res.writeHead(status, proxyRes.statusMessage, headers);
          // A response without a length is a stream (wait, logs -f, events, attach): its headers go out now.
          // A sized one goes out with its body, in one write.
          if (proxyRes.headers['content-length'] === undefined) res.flushHeaders();
          let bytesOut = 0;
          const kept: Buffer[] = [];
          let keptBytes = 0;
          proxyRes.on('data', (c: Buffer) => {
            bytesOut += c.length;
            if (capture && keptBytes < capture) {
              kept.push(c.subarray(0, capture - keptBytes));
              keptBytes += Math.min(c.length, capture - keptBytes);
            }
          });
          proxyRes.on('error', () => res.destroy());
          res.on('finish', () =>
            settle(() => resolve({ status, bytesOut, aborted: false, ...(capture ? { captured: Buffer.concat(kept) } : {}) })),
          );
          res.on('close', () => {
            if (!res.writableFinished) {
              proxyRes.destroy();
              settle(() => resolve({ status, bytesOut, aborted: true }));
            }
          });
          if (beforeEnd) {
            // A sized answer is complete for the client with its last byte, so it is held back whole (these are
            // small: ids of created objects); a stream ends with its last chunk, which res.end() writes.
            const sized = proxyRes.headers['content-length'] !== undefined;
            const held: Buffer[] = [];
            if (sized) proxyRes.on('data', (c: Buffer) => held.push(c));
            else proxyRes.pipe(res, { end: false });
            proxyRes.on('end', () => {
              void beforeEnd(status, capture ? Buffer.concat(kept) : undefined)
                .catch(() => undefined)
                .finally(() => res.end(sized ? Buffer.concat(held) : undefined));
            });
          } else proxyRes.pipe(res);
        });
        const options: httpProxy.ServerOptions & { buffer?: Readable } = {};
        if (buffer) options.buffer = buffer;
        proxy.web(req, res, options, (err) => settle(() => reject(err)));
      });
    },
    fetch(req, { path, body }) {
      return new Promise<Fetched>((resolve, reject) => {
        const headers: Record<string, string | string[]> = {};
        for (const [k, v] of Object.entries(req.headers)) {
          if (v !== undefined && !HOP_BY_HOP.has(k) && k !== 'x-wingman-approval' && k !== 'content-length') headers[k] = v;
        }
        const payload = body ?? Buffer.alloc(0);
        if (body !== undefined || req.method === 'POST' || req.method === 'PUT') headers['content-length'] = String(payload.length);
        const up = http.request({ socketPath: upstreamSocket, agent, method: req.method, path, headers }, (proxyRes) => {
          const chunks: Buffer[] = [];
          proxyRes.on('data', (c: Buffer) => chunks.push(c));
          proxyRes.on('error', reject);
          proxyRes.on('end', () => {
            const out: Record<string, string | string[]> = {};
            for (const [k, v] of Object.entries(proxyRes.headers)) if (v !== undefined && !HOP_BY_HOP.has(k)) out[k] = v;
            resolve({ status: proxyRes.statusCode ?? 502, headers: out, body: Buffer.concat(chunks) });
          });
        });
        up.on('error', reject);
        up.end(payload);
      });
    },
    close() {
      proxy.close();
      agent.destroy();
    },
  };
}
