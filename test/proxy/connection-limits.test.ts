// Regression (#11.4): one worker could starve the others. With no header/body timeouts and no per-worker connection
// limit, one worker holding ~20k half-sent requests exhausted the proxy's file descriptors and another worker's call
// got `502 connect EMFILE`. Now each worker socket has a connection cap and a reserved share, headers and bodies have
// timeouts, and the refusals are clear (429 over its share, 503 proxy full, 408 too slow) and audited.
import { spawn } from 'node:child_process';
import net from 'node:net';
import t from 'tap';
import { until } from '../helpers/until.js';
import { startWingman } from '../helpers/wingman.js';

/** Open a connection and send `bytes`; resolves with what came back when the proxy closed it (or '' if open). */
function halfSent(socketPath: string, bytes: string): { done: Promise<string>; socket: net.Socket; connected: Promise<void> } {
  const socket = net.connect(socketPath);
  let got = '';
  socket.on('data', (d: Buffer) => (got += d.toString()));
  socket.on('error', (e) => (got += `ERROR ${(e as NodeJS.ErrnoException).code}`));
  socket.write(bytes);
  const connected = new Promise<void>((resolve) => {
    socket.once('connect', () => resolve());
    socket.once('error', () => resolve());
  });
  return { socket, connected, done: new Promise((resolve) => socket.once('close', () => resolve(got))) };
}

// The flood comes from a process of its own, as a misbehaving worker's would: the proxy's event loop is not the one
// opening the connections.
const FLOODER = `
const net = require('node:net');
const [path, count] = [process.argv[1], Number(process.argv[2])];
const answers = new Map();
const note = (k) => answers.set(k, (answers.get(k) || 0) + 1);
let open = 0;
(async () => {
  for (let i = 0; i < count; i += 100) {
    await Promise.all(Array.from({ length: Math.min(100, count - i) }, () => new Promise((resolve) => {
      const s = net.connect(path);
      let got = '';
      s.on('connect', () => { open++; resolve(); });
      s.on('data', (d) => (got += d));
      s.on('error', (e) => { got = got || 'ERROR ' + e.code; resolve(); });
      s.on('close', (hadError) => { if (!hadError || got) open--; note(got.split('\\r\\n')[0] || 'closed'); });
      s.write('GET /v1.41/containers/json HTTP/1.1\\r\\nHost: docker\\r\\n');
    })));
  }
  setTimeout(() => process.stdout.write(JSON.stringify(Object.fromEntries(answers)) + '\\n'), 300);
})();
process.stdin.resume();
process.stdin.on('end', () => process.exit(0));
`;

t.test('one worker holding thousands of half-sent requests starves nobody', async (t) => {
  const w = await startWingman({
    env: {
      WINGMAN_MAX_CONNECTIONS: '512',
      WINGMAN_MAX_CONNECTIONS_PER_WORKER: '64',
      WINGMAN_HEADERS_TIMEOUT_MS: '3000',
    },
  });
  const flooder = spawn(process.execPath, ['-e', FLOODER, w.proxy.socketPath('w1'), '3000'], { stdio: ['pipe', 'pipe', 'inherit'] });
  t.teardown(async () => {
    flooder.kill('SIGKILL');
    await w.close();
  });
  const summary = await new Promise<Record<string, number>>((resolve) => {
    let out = '';
    flooder.stdout.on('data', (d) => {
      out += d;
      if (out.includes('\n')) resolve(JSON.parse(out.split('\n')[0]) as Record<string, number>);
    });
  });
  // Beyond its cap of 64, each of w1's connections is answered 429 and closed at once, or (when it connects faster
  // than the proxy accepts) refused by the kernel's backlog of w1's own socket, which no other worker shares.
  const tooMany = summary['HTTP/1.1 429 Too Many Requests'] ?? 0;
  const backlog = summary['ERROR EAGAIN'] ?? 0;
  t.ok(tooMany > 0 && tooMany + backlog > 2000, `refused at once: ${JSON.stringify(summary)}`);

  // Meanwhile w2 is served normally, by the real docker CLI, and w1 is told why it is not.
  const ps = await w.dockerAs('w2', ['ps', '-q']);
  t.equal(ps.code, 0, ps.stderr);
  const v = await w.dockerAs('w2', ['version', '--format', '{{.Server.Version}}']);
  t.equal(v.code, 0, v.stderr);
  const mine = await w.dockerAs('w1', ['ps', '-q']);
  t.not(mine.code, 0);
  t.match(mine.stderr, /w1 has 64 connections open \(at most 64\); close some/);

  // Headers that never finish are dropped after the header timeout (408), and then w1 is served again.
  await until('w1 served again', async () => (await w.dockerAs('w1', ['ps', '-q'])).code === 0, 20_000);
  t.pass('w1 is served again once its stuck connections timed out');
  flooder.stdin.end();
});

t.test('a body that stops arriving is dropped; unparseable requests are refused and audited', async (t) => {
  const w = await startWingman({ env: { WINGMAN_BODY_IDLE_TIMEOUT_MS: '1000' } });
  t.teardown(() => w.close());

  const slow = halfSent(
    w.proxy.socketPath('w1'),
    'POST /v1.41/containers/create HTTP/1.1\r\nHost: docker\r\nContent-Type: application/json\r\nContent-Length: 200\r\n\r\n{"Image":',
  );
  const closedAfter = await slow.done;
  t.notMatch(closedAfter, /^HTTP\/1\.1 2/, 'the stalled create never ran');

  const garbage = halfSent(w.proxy.socketPath('w2'), 'NOT HTTP AT ALL\r\n\r\n');
  t.match(await garbage.done, /^HTTP\/1\.1 400/);
  await w.proxy.audit.flush();
  const { rows } = await w.db.query<{ status_code: number; reason: string; decision: string }>(
    `SELECT status_code, reason, decision FROM docker_audit WHERE worker = 'w2' AND rule = 'Invalid'`,
  );
  t.ok(rows.some((r) => r.status_code === 400 && /malformed or unsupported HTTP/.test(r.reason) && r.decision === 'invalid'), 'the parser refusal has its audit row');
});
