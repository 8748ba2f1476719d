// Passthrough for hijacked connections (POST …/attach and /exec/{id}/start with `Upgrade: tcp`, GET …/attach/ws).
// http-proxy's ws() destroys Docker's tcp upgrades, so this is ours. The upstream request is made by node's own
// HTTP client: only a real 101 turns the connection into a raw pipe; any other answer is relayed and the client
// connection closed, so no further request can ride an unclassified raw pipe.
import http, { type IncomingMessage } from 'node:http';
import net from 'node:net';
import type { Duplex } from 'node:stream';
import { engineUnreachable } from '../core/docker/ping-engine.js';

export interface UpgradeResult {
  status: number;
  bytesIn: number;
  bytesOut: number;
}

const statusLine = (res: IncomingMessage) => `HTTP/1.1 ${res.statusCode} ${res.statusMessage ?? ''}\r\n`;

/** Read exactly n bytes of request body: first from what the parser already read (`head`), then from the socket. */
function readExact(client: Duplex, head: Buffer, n: number): Promise<{ body: Buffer; extra: Buffer }> {
  if (head.length >= n) return Promise.resolve({ body: head.subarray(0, n), extra: head.subarray(n) });
  return new Promise((resolve, reject) => {
    const chunks = [head];
    let have = head.length;
    const onData = (c: Buffer) => {
      chunks.push(c);
      have += c.length;
      if (have >= n) {
        client.off('data', onData);
        client.off('close', onClose);
        client.pause();
        const all = Buffer.concat(chunks);
        resolve({ body: all.subarray(0, n), extra: all.subarray(n) });
      }
    };
    const onClose = () => reject(new Error('client closed while sending the body'));
    client.on('data', onData);
    client.on('close', onClose);
    client.resume();
  });
}

export async function forwardUpgrade(
  upstreamSocket: string,
  req: IncomingMessage,
  client: Duplex,
  head: Buffer,
  path: string,
): Promise<UpgradeResult> {
  const length = Number(req.headers['content-length'] ?? 0);
  const { body, extra } = await readExact(client, head, length);
  return new Promise((resolve) => {
    const headers: Record<string, string | string[]> = {};
    for (const [k, v] of Object.entries(req.headers)) if (v !== undefined && k !== 'x-wingman-approval') headers[k] = v;
    headers['content-length'] = String(body.length); // never let node switch to chunked for a hijack request
    const upReq = http.request({ createConnection: () => net.connect(upstreamSocket), method: req.method, path, headers });
    let bytesIn = body.length + extra.length;
    let bytesOut = 0;
    let finished = false;
    const finish = (status: number) => {
      if (!finished) {
        finished = true;
        resolve({ status, bytesIn, bytesOut });
      }
    };
    const early: Buffer[] = extra.length ? [extra] : [];
    const buffer = (c: Buffer) => early.push(c);
    client.on('data', buffer);
    client.resume();

    upReq.on('upgrade', (res, upstream, upHead) => {
      client.off('data', buffer);
      const lines: string[] = [];
      for (let i = 0; i < res.rawHeaders.length; i += 2) lines.push(`${res.rawHeaders[i]}: ${res.rawHeaders[i + 1]}`);
      client.write(statusLine(res) + lines.join('\r\n') + '\r\n\r\n');
      if (upHead.length) client.write(upHead);
      bytesOut += upHead.length;
      for (const c of early) upstream.write(c);
      upstream.on('data', (c: Buffer) => (bytesOut += c.length));
      client.on('data', (c: Buffer) => (bytesIn += c.length));
      upstream.pipe(client);
      client.pipe(upstream);
      const end = () => {
        upstream.destroy();
        client.destroy();
        finish(res.statusCode ?? 101);
      };
      upstream.on('close', end);
      client.on('close', end);
      upstream.on('error', end);
      client.on('error', end);
    });

    upReq.on('response', (res) => {
      // Not upgraded (e.g. 404 No such container): relay this one answer, then close.
      client.off('data', buffer);
      const lines: string[] = [];
      for (let i = 0; i < res.rawHeaders.length; i += 2) {
        const k = res.rawHeaders[i].toLowerCase();
        if (!['connection', 'transfer-encoding', 'keep-alive', 'content-length'].includes(k)) {
          lines.push(`${res.rawHeaders[i]}: ${res.rawHeaders[i + 1]}`);
        }
      }
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const resBody = Buffer.concat(chunks);
        bytesOut = resBody.length;
        lines.push(`Content-Length: ${resBody.length}`, 'Connection: close');
        client.write(statusLine(res) + lines.join('\r\n') + '\r\n\r\n');
        client.end(resBody);
        finish(res.statusCode ?? 502);
      });
    });

    upReq.on('error', () => {
      const msg = JSON.stringify({ message: `wingman: ${engineUnreachable(upstreamSocket)}` });
      if (client.writable) {
        client.end(
          `HTTP/1.1 502 Bad Gateway\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(msg)}\r\nConnection: close\r\n\r\n${msg}`,
        );
      }
      finish(502);
    });
    client.on('error', () => upReq.destroy());
    upReq.end(body);
  });
}
