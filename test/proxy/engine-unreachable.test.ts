// Nothing at WINGMAN_UPSTREAM: `wingman up` still starts (the engine may come later), but says so at start, loudly,
// naming the path and the variable; and a Docker call through the proxy is refused with 502 naming the path, so a
// worker (or ops reading its output) knows where Wingman looked.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import t from 'tap';
import { run } from '../helpers/wingman.js';
import { startUp } from '../helpers/wingman-up.js';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'wgmtest-noeng-'));
const missing = path.join(dir, 'no-engine', 'docker.sock');

t.test('no engine at WINGMAN_UPSTREAM: a warning at start, 502 with the path on every call', async (t) => {
  const up = await startUp({
    WINGMAN_DATA_DIR: path.join(dir, 'data'),
    WINGMAN_SOCKET_DIR: path.join(dir, 's'),
    WINGMAN_UPSTREAM: `unix://${missing}`,
    WINGMAN_WORKERS: 'w1',
  });
  t.teardown(async () => {
    up.child.kill('SIGKILL');
    await up.exited;
    fs.rmSync(dir, { recursive: true, force: true });
  });
  await up.waitFor(/"msg":"proxy ready"/);
  const warned = await up.waitFor(/.*docker engine unreachable at.*/);
  const line = JSON.parse(warned[0]) as { level: number; msg: string; upstream: string };
  t.equal(line.level, 40, 'logged as a warning');
  t.match(line.msg, `docker engine unreachable at ${missing} (WINGMAN_UPSTREAM)`, 'names the path and the variable');
  t.equal(line.upstream, missing);
  t.equal(up.child.exitCode, null, 'still running: the engine may come later');

  const sock = path.join(dir, 's', 'w1', 'docker.sock');
  const ps = await run('docker', ['ps'], { PATH: process.env.PATH, HOME: dir, DOCKER_HOST: `unix://${sock}` }, undefined, 60_000);
  t.not(ps.code, 0, 'docker ps fails');
  t.match(ps.stderr, `docker engine unreachable at ${missing} (WINGMAN_UPSTREAM)`, `the CLI shows the path (${ps.stderr.trim()})`);

  const res = await new Promise<{ status: number; body: string }>((resolve, reject) => {
    import('node:http').then(({ default: http }) => {
      const req = http.request({ socketPath: sock, path: '/v1.41/containers/json', method: 'GET' }, (r) => {
        let body = '';
        r.on('data', (d) => (body += d));
        r.on('end', () => resolve({ status: r.statusCode ?? 0, body }));
      });
      req.on('error', reject);
      req.end();
    }, reject);
  });
  t.equal(res.status, 502);
  t.same(JSON.parse(res.body), { message: `wingman: docker engine unreachable at ${missing} (WINGMAN_UPSTREAM)` }, "Docker's error shape");
});
