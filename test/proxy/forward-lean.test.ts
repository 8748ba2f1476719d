// The lean forward (a call without a body, proxy/forward.ts: undici) against http-proxy's, for a table of calls and
// engine answers: the engine must receive the same request either way (request line, every header and its value,
// no body; only the framing may differ: header order, `connection`, an empty body's `content-length: 0`), and the
// client the same answer (status, headers in order, body; or the same broken connection). A fake engine on a unix
// socket records every byte it is sent.
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import t from 'tap';
import { createForwarder, type ForwardResult, type Forwarder } from '../../proxy/forward.js';

type Reply = (sock: net.Socket) => void;

const json = (status: string, body: string, extra = ''): Reply => (sock) =>
  sock.write(`HTTP/1.1 ${status}\r\nApi-Version: 1.41\r\nContent-Type: application/json\r\n${extra}Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`);

const big = Buffer.alloc(2 * 1024 * 1024 + 17, 'x');

/** What the fake engine answers, by the path it is asked for. */
const replies: Record<string, Reply> = {
  '/v1.41/_ping': (sock) =>
    sock.write('HTTP/1.1 200 OK\r\nApi-Version: 1.41\r\nCache-Control: no-cache, no-store, must-revalidate\r\nDocker-Experimental: false\r\nOstype: linux\r\nPragma: no-cache\r\nContent-Length: 2\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nOK'),
  '/v1.41/containers/json?all=1&filters=%7B%22label%22%3A%5B%22a%3Db%22%5D%7D': json('200 OK', '[{"Id":"abc","Names":["/x"]}]'),
  '/v1.41/containers/c1/json': (sock) => sock.write('HTTP/1.1 304 Not Modified\r\nApi-Version: 1.41\r\n\r\n'),
  '/v1.41/containers/gone/json': json('404 Not Found', '{"message":"No such container: gone"}'),
  '/v1.41/containers/c1/start': (sock) => sock.write('HTTP/1.1 204 No Content\r\nApi-Version: 1.41\r\n\r\n'),
  '/v1.41/containers/c1?force=1': (sock) => sock.write('HTTP/1.1 204 No Content\r\nApi-Version: 1.41\r\n\r\n'),
  '/v1.41/containers/c1/kill': json('500 Internal Server Error', '{"message":"cannot kill container: c1: is not running"}'),
  '/v1.41/containers/c1/logs?follow=1&stdout=1': (sock) => {
    sock.write('HTTP/1.1 200 OK\r\nApi-Version: 1.41\r\nContent-Type: application/vnd.docker.raw-stream\r\nTransfer-Encoding: chunked\r\n\r\n');
    sock.write('5\r\nhello\r\n');
    setTimeout(() => sock.write('6\r\n world\r\n0\r\n\r\n'), 20);
  },
  '/v1.41/images/x/get': (sock) => {
    sock.write(`HTTP/1.1 200 OK\r\nContent-Type: application/x-tar\r\nContent-Length: ${big.length}\r\n\r\n`);
    sock.write(big);
  },
  '/v1.41/containers/c1/changes': (sock) => {
    // The engine dies in the middle of a sized answer.
    sock.write('HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n[{"Path":');
    setTimeout(() => sock.destroy(), 20);
  },
  '/v1.41/info': json('200 OK', '{"ID":"x"}', 'Connection: keep-alive\r\nKeep-Alive: timeout=5\r\nX-Two: a\r\nX-Two: b\r\n'),
};

/** A fake engine: reads each request (headers, then a sized or chunked body), records its bytes, answers it. */
async function fakeEngine(sock: string): Promise<{ seen: Buffer[]; close(): Promise<void> }> {
  const seen: Buffer[] = [];
  const conns = new Set<net.Socket>();
  const server = net.createServer((c) => {
    conns.add(c);
    c.on('close', () => conns.delete(c));
    let buf = Buffer.alloc(0);
    c.on('data', (d: Buffer) => {
      buf = Buffer.concat([buf, d]);
      for (;;) {
        const end = buf.indexOf('\r\n\r\n');
        if (end === -1) return;
        const head = buf.subarray(0, end).toString('latin1');
        let total = end + 4;
        const len = /\r\ncontent-length: *(\d+)/i.exec(head);
        if (len) total += Number(len[1]);
        else if (/\r\ntransfer-encoding: *chunked/i.test(head)) {
          const last = buf.indexOf('0\r\n\r\n', end + 4);
          if (last === -1) return;
          total = last + 5;
        }
        if (buf.length < total) return;
        seen.push(Buffer.from(buf.subarray(0, total)));
        const [method, target = ''] = head.split(' ');
        buf = buf.subarray(total);
        // Like Go's server, no body in an answer to HEAD.
        const reply = replies[target] ?? json('404 Not Found', '{"message":"page not found"}');
        reply(method === 'HEAD' ? ({ write: (s: string) => c.write(s.slice(0, s.indexOf('\r\n\r\n') + 4)) } as net.Socket) : c);
      }
    });
  });
  await new Promise<void>((r) => server.listen(sock, r));
  return {
    seen,
    close: () =>
      new Promise<void>((r) => {
        for (const c of conns) c.destroy();
        server.close(() => r());
      }),
  };
}

/** A front server that forwards every call as the proxy does once it is allowed. */
async function front(forwarder: Forwarder, sock: string): Promise<{ results: ForwardResult[]; close(): Promise<void> }> {
  const results: ForwardResult[] = [];
  const server = http.createServer((req, res) => {
    forwarder.forward(req, res, { path: req.url ?? '' }).then(
      (r) => results.push(r),
      (err: NodeJS.ErrnoException) => {
        results.push({ status: 502, bytesOut: 0, aborted: false });
        // As proxy/reject.ts does: an answer already under way is cut.
        if (res.headersSent) {
          res.destroy();
          return;
        }
        res.writeHead(502, { 'content-type': 'application/json' }).end(JSON.stringify({ message: err.code ?? 'error' }));
      },
    );
  });
  await new Promise<void>((r) => server.listen(sock, r));
  return {
    results,
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

interface Answer {
  status?: number;
  headers?: string[];
  body?: string;
  error?: string;
}

function call(agent: http.Agent, sock: string, method: string, p: string, headers: Record<string, string | string[]>): Promise<Answer> {
  return new Promise((resolve) => {
    const req = http.request({ agent, socketPath: sock, method, path: p, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      const done = (error?: string) => {
        // Date is the front server's clock; everything else must match.
        const hs = res.rawHeaders.filter((_, i, a) => a[i - (i % 2)].toLowerCase() !== 'date');
        const body = Buffer.concat(chunks);
        resolve({ status: res.statusCode, headers: hs, body: body.length > 4096 ? `${body.length} bytes` : body.toString('latin1'), ...(error ? { error } : {}) });
      };
      res.on('end', () => done());
      res.on('error', (err) => done(err.message));
      res.on('aborted', () => done('aborted'));
    });
    req.on('error', (err) => resolve({ error: err.message }));
    req.end();
  });
}

/**
 * A request as the engine acts on it: the request line, the headers by name (lower case, in name order) with their
 * values as sent, and the body. What only frames the message is left out: `connection` (keep-alive, or close after a
 * HEAD) and a `content-length: 0` (no body either way).
 */
function asRead(bytes: string | undefined): { line: string; headers: string[]; body: string } | undefined {
  if (bytes === undefined) return undefined;
  const end = bytes.indexOf('\r\n\r\n');
  const [line, ...lines] = bytes.slice(0, end).split('\r\n');
  const headers = lines
    .map((l) => {
      const i = l.indexOf(':');
      return `${l.slice(0, i).toLowerCase()}:${l.slice(i + 1).trim()}`;
    })
    .filter((h) => !h.startsWith('connection:') && h !== 'content-length:0')
    .sort();
  return { line, headers, body: bytes.slice(end + 4) };
}

const calls: Array<[string, string, Record<string, string | string[]>]> = [
  ['GET', '/v1.41/_ping', { 'User-Agent': 'Docker-Client/24.0.7 (linux)' }],
  ['HEAD', '/v1.41/_ping', {}],
  ['GET', '/v1.41/containers/json?all=1&filters=%7B%22label%22%3A%5B%22a%3Db%22%5D%7D', { 'X-Registry-Auth': 'e30=' }],
  ['GET', '/v1.41/containers/c1/json', { 'If-None-Match': '"x"' }],
  ['GET', '/v1.41/containers/gone/json', {}],
  ['POST', '/v1.41/containers/c1/start', {}],
  ['POST', '/v1.41/containers/c1/start', { 'Content-Length': '0' }],
  ['POST', '/v1.41/containers/c1/kill', { 'Content-Type': 'application/json' }],
  ['DELETE', '/v1.41/containers/c1?force=1', {}],
  ['GET', '/v1.41/containers/c1/logs?follow=1&stdout=1', {}],
  ['GET', '/v1.41/images/x/get', {}],
  ['GET', '/v1.41/info', { Connection: 'keep-alive' }],
  ['GET', '/v1.41/nowhere?q=a%20b', {}],
  ['GET', '/v1.41/containers/c1/changes', {}],
  ['GET', '/v1.41/containers/c1/json', { 'X-Registry-Auth': ['a', 'b'] }],
];

t.test('a call without a body: the same request reaches the engine, the same answer reaches the client, either way', async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'wgmtest-lean-'));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  const out: Record<string, { engine: string[]; answers: Answer[]; results: ForwardResult[] }> = {};
  for (const lean of [false, true]) {
    const way = lean ? 'lean' : 'http-proxy';
    const engine = await fakeEngine(path.join(dir, `${way}-engine.sock`));
    const forwarder = createForwarder(path.join(dir, `${way}-engine.sock`), { lean });
    const f = await front(forwarder, path.join(dir, `${way}-front.sock`));
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    const answers: Answer[] = [];
    for (const [method, p, headers] of calls) answers.push(await call(agent, path.join(dir, `${way}-front.sock`), method, p, headers));
    agent.destroy();
    await f.close();
    forwarder.close();
    await engine.close();
    out[way] = { engine: engine.seen.map((b) => b.toString('latin1')), answers, results: f.results };
  }
  const [a, b] = [out['http-proxy'], out.lean];
  t.equal(b.engine.length, calls.length, 'every call reached the engine');
  for (let i = 0; i < calls.length; i++) {
    const what = `${calls[i][0]} ${calls[i][1]}`;
    t.same(asRead(b.engine[i]), asRead(a.engine[i]), `${what}: the engine got the same request`);
    t.same(b.answers[i], a.answers[i], `${what}: the client got the same answer`);
  }
  t.match(b.answers[0], { status: 200, body: 'OK' });
  t.ok(b.answers[13]?.error, 'an answer cut short by the engine is a broken answer for the client');
  // A repeated header reaches the engine as the one value the decision saw (node's parsed view), never as two lines
  // the engine could read differently.
  t.match(b.engine[14], /\r\nx-registry-auth: a, b\r\n/i, 'a repeated header: one line, the joined value');
  t.equal(b.engine[14]?.match(/x-registry-auth/gi)?.length, 1);
  t.match(b.engine[0], /\r\nconnection: keep-alive\r\n/, 'the engine connection is kept open');
  t.same(
    b.results.map((r) => [r.status, r.bytesOut]),
    a.results.map((r) => [r.status, r.bytesOut]),
    'status and bytes out as the audit records them',
  );
});

t.test('no engine: the lean forward fails like http-proxy (the proxy answers 502)', async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'wgmtest-lean-'));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  const codes: string[] = [];
  for (const lean of [false, true]) {
    const forwarder = createForwarder(path.join(dir, 'no-engine.sock'), { lean });
    const f = await front(forwarder, path.join(dir, `front-${lean}.sock`));
    const a = await call(new http.Agent(), path.join(dir, `front-${lean}.sock`), 'GET', '/v1.41/_ping', {});
    codes.push(`${a.status} ${a.body}`);
    await f.close();
    forwarder.close();
  }
  t.equal(codes[1], codes[0]);
  t.equal(codes[1], '502 {"message":"ENOENT"}');
});

t.test('the caller leaves before the engine answers: the engine call is dropped, the forward ends as aborted', async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'wgmtest-lean-'));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  let engineSawClose!: () => void;
  const closed = new Promise<void>((r) => (engineSawClose = r));
  const server = net.createServer((c) => {
    c.resume(); // read what comes, and so see the end of it; never answer
    c.on('close', () => engineSawClose());
  });
  await new Promise<void>((r) => server.listen(path.join(dir, 'engine.sock'), r));
  const forwarder = createForwarder(path.join(dir, 'engine.sock'));
  const f = await front(forwarder, path.join(dir, 'front.sock'));
  const req = http.request({ socketPath: path.join(dir, 'front.sock'), path: '/v1.41/containers/c1/wait', method: 'POST' });
  req.on('error', () => undefined);
  req.end();
  await new Promise((r) => setTimeout(r, 200));
  req.destroy();
  await closed;
  t.pass('the engine connection was closed');
  while (f.results.length === 0) await new Promise((r) => setTimeout(r, 20));
  t.same(f.results[0], { status: 499, bytesOut: 0, aborted: true });
  await f.close();
  forwarder.close();
  await new Promise<void>((r) => server.close(() => r()));
});
