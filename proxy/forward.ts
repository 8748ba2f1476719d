// The one adapter around http-proxy (unmaintained since 2020, so it stays behind this file). We handle the
// response ourselves: http-proxy's web() does not flush response headers early, and `docker run` waits for the
// headers of /containers/{id}/wait before it starts the container. No timeouts: logs/events/attach are streams.
// A call with no request body (most of them: reads, starts, stops, removes) skips http-proxy: it goes over undici's
// pool with the same method, path and headers (only the framing differs, test/proxy/forward-lean.test.ts), and a
// small sized answer goes to the client in one write. So do the whole answers Wingman reads itself (fetch: lists it
// filters, inspects it decides on). Bodies go through http-proxy. Both ways relay the engine's header lines as they
// came (names, order, repeats), less the hop-by-hop ones.
import fs from 'node:fs';
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import { Readable } from 'node:stream';
import url from 'node:url';
import httpProxy from 'http-proxy';
import { createRequire } from 'node:module';
import type * as undici from 'undici';

// undici's Pool alone: its index also loads fetch, WebSocket, the cache and the mocks (95 modules and ~18 MB of RSS
// against 23 and ~12, most of it the HTTP parser's wasm), none of which the proxy uses.
const Pool = createRequire(import.meta.url)('undici/lib/dispatcher/pool.js') as typeof undici.Pool;

const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'transfer-encoding', 'upgrade', 'proxy-connection', 'te', 'trailer']);

/** A sized answer up to this size is collected and written to the client at once (inspects, lists, versions). */
const COLLECT_MAX = 1024 * 1024;

/** An answer's header lines as the engine sent them (names, order, repeats), less the hop-by-hop ones. */
function endToEnd(raw: readonly (string | Buffer)[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i];
    const text = typeof name === 'string' ? name : name.toString('latin1');
    if (HOP_BY_HOP.has(text.toLowerCase())) continue;
    const value = raw[i + 1];
    out.push(text, typeof value === 'string' ? value : value.toString('latin1'));
  }
  return out;
}

/** Header lines by lower-case name (a repeated one as a list, written back as it came). */
function headerObject(lines: readonly string[]): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (let i = 0; i < lines.length; i += 2) {
    const name = lines[i].toLowerCase();
    const had = out[name];
    out[name] = had === undefined ? lines[i + 1] : Array.isArray(had) ? [...had, lines[i + 1]] : [had, lines[i + 1]];
  }
  return out;
}

/**
 * The request's headers as node parsed them (what the decision saw; a repeated one is the one joined value an
 * approval was bound to), less the hop-by-hop ones, `Expect` (no body follows it here) and `drop`.
 */
function engineHeaders(req: IncomingMessage, drop: readonly string[] = []): Record<string, string | string[]> {
  const headers: Record<string, string | string[]> = {};
  for (const k in req.headers) {
    const v = req.headers[k];
    if (v !== undefined && !HOP_BY_HOP.has(k) && k !== 'expect' && !drop.includes(k)) headers[k] = v;
  }
  return headers;
}

/**
 * The request path exactly as http-proxy puts it on the wire (url.parse's path, runs of '/' before the query
 * collapsed), so that a call reaches the engine at the same path whichever way it is forwarded.
 */
export function wirePath(path: string): string {
  // url.parse is deprecated, and it is the very parse http-proxy applies: kept for an identical path.
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
  // The lean forward's and fetch's engine connections. No timeouts (undici's default is 300 s): streams idle for
  // as long as the engine has nothing to say.
  const pool = new Pool('http://docker', {
    socketPath: upstreamSocket,
    connections: 512,
    pipelining: 1,
    headersTimeout: 0,
    bodyTimeout: 0,
  });
  const pending = new WeakMap<ServerResponse, (proxyRes: IncomingMessage) => void>();
  proxy.on('proxyRes', (proxyRes: IncomingMessage, _req: IncomingMessage, res: ServerResponse) => {
    pending.get(res)?.(proxyRes);
  });

  /**
   * A call without a body, over undici's pool: a bare proxy in front of dockerd took about a quarter less CPU per
   * call with it than with node:http's client; Wingman's own CPU per /_ping fell by a tenth to a sixth (compared with
   * dockerd's and the bench client's in the same rounds). The request carries engineHeaders(). The answer: a sized
   * one up to COLLECT_MAX is collected and written in one go; anything else (a stream, a large download) is relayed
   * as it comes, headers first, at the pace the client reads.
   */
  function leanForward(
    req: IncomingMessage,
    res: ServerResponse,
    path: string,
    settle: (fn: () => void) => void,
    resolve: (r: ForwardResult) => void,
    reject: (err: Error) => void,
  ): void {
    // As http-proxy sends it: a DELETE or OPTIONS without a length says it has none.
    if ((req.method === 'DELETE' || req.method === 'OPTIONS') && !req.headers['content-length']) req.headers['content-length'] = '0';
    const headers = engineHeaders(req);
    let answered = false;
    let ended = false;
    let held: Buffer[] | undefined;
    let status = 502;
    let bytesOut = 0;
    let abortUp: ((err?: Error) => void) | undefined;
    let gone = false;
    // No answer from the engine: the call fails (the proxy answers 502). One that fails mid-answer cuts the client's
    // answer where the engine stopped (what was held back goes out first), as a relayed answer would be cut.
    const failed = (err: Error) => {
      if (!answered) {
        settle(() => reject(err));
        return;
      }
      if (ended || res.destroyed) return;
      ended = true;
      if (held?.length) {
        // The headers and what came are flushed on the next tick: cut after that.
        res.write(Buffer.concat(held));
        setImmediate(() => res.destroy());
      } else res.destroy();
    };
    // The caller left: before the answer, the engine's request is dropped (as http-proxy drops it); during a relayed
    // answer, the rest of it.
    res.once('close', () => {
      if (res.writableFinished) return;
      gone = true;
      settle(() => resolve(answered ? { status, bytesOut, aborted: true } : { status: 499, bytesOut: 0, aborted: true }));
      abortUp?.();
    });
    res.once('finish', () => settle(() => resolve({ status, bytesOut, aborted: false })));
    pool.dispatch(
      { method: (req.method ?? 'GET') as undici.Dispatcher.HttpMethod, path: wirePath(path), headers },
      {
        onConnect(abort) {
          if (gone) abort();
          else abortUp = abort;
        },
        onError: failed,
        onHeaders(statusCode, raw, resume, statusText) {
          answered = true;
          status = statusCode;
          const out = endToEnd(raw);
          let len: string | undefined;
          for (let i = 0; i < out.length; i += 2) if (out[i].length === 14 && out[i].toLowerCase() === 'content-length') len = out[i + 1];
          res.writeHead(statusCode, statusText, out);
          if (len !== undefined && Number(len) <= COLLECT_MAX) {
            held = [];
            return true;
          }
          // A stream (wait, logs -f, events): its headers go out now.
          if (len === undefined) res.flushHeaders();
          res.on('drain', resume);
          return true;
        },
        onData(chunk) {
          bytesOut += chunk.length;
          if (held) {
            held.push(chunk);
            return true;
          }
          return res.write(chunk);
        },
        onComplete() {
          ended = true;
          if (held) res.end(held.length === 1 ? held[0] : Buffer.concat(held));
          else res.end();
        },
      },
    );
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
          res.writeHead(status, proxyRes.statusMessage, endToEnd(proxyRes.rawHeaders));
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
        const headers = engineHeaders(req, ['x-wingman-approval', 'content-length']);
        const payload = body ?? Buffer.alloc(0);
        if (body !== undefined || req.method === 'POST' || req.method === 'PUT') headers['content-length'] = String(payload.length);
        let status = 502;
        let answer: Record<string, string | string[]> = {};
        const chunks: Buffer[] = [];
        pool.dispatch(
          { method: (req.method ?? 'GET') as undici.Dispatcher.HttpMethod, path, headers, body: payload.length ? payload : null },
          {
            onConnect() {},
            onError: reject,
            onHeaders(statusCode, raw) {
              status = statusCode;
              answer = headerObject(endToEnd(raw));
              return true;
            },
            onData(chunk) {
              chunks.push(chunk);
              return true;
            },
            onComplete() {
              resolve({ status, headers: answer, body: Buffer.concat(chunks) });
            },
          },
        );
      });
    },
    close() {
      proxy.close();
      agent.destroy();
      void pool.destroy();
    },
  };
}
