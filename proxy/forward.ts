// The one adapter around http-proxy (unmaintained since 2020, so it stays behind this file). We handle the
// response ourselves: http-proxy's web() does not flush response headers early, and `docker run` waits for the
// headers of /containers/{id}/wait before it starts the container. No timeouts: logs/events/attach are streams.
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import { Readable } from 'node:stream';
import httpProxy from 'http-proxy';

const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'transfer-encoding', 'upgrade', 'proxy-connection', 'te', 'trailer']);

export interface ForwardResult {
  status: number;
  bytesOut: number;
  /** the client went away before the response finished */
  aborted: boolean;
}

export interface Forwarder {
  /** Forward to `path`; with `body`, send exactly those bytes (with a Content-Length) instead of the request's. */
  forward(req: IncomingMessage, res: ServerResponse, opts: { path: string; body?: Buffer }): Promise<ForwardResult>;
  close(): void;
}

export function createForwarder(upstreamSocket: string): Forwarder {
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

  return {
    forward(req, res, { path, body }) {
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
          proxyRes.on('data', (c: Buffer) => (bytesOut += c.length));
          proxyRes.on('error', () => res.destroy());
          res.on('finish', () => settle(() => resolve({ status, bytesOut, aborted: false })));
          res.on('close', () => {
            if (!res.writableFinished) {
              proxyRes.destroy();
              settle(() => resolve({ status, bytesOut, aborted: true }));
            }
          });
          proxyRes.pipe(res);
        });
        const options: httpProxy.ServerOptions & { buffer?: Readable } = {};
        if (buffer) options.buffer = buffer;
        proxy.web(req, res, options, (err) => settle(() => reject(err)));
      });
    },
    close() {
      proxy.close();
      agent.destroy();
    },
  };
}
