// One process per data directory (issue 11, finding 5): a second `wingman up` on the same WINGMAN_DATA_DIR used to
// open the same PGlite files, and one of two tries left the directory unreadable. Now the second exits 1 with one
// line naming the first's pid, having touched nothing; the first keeps working and restarts cleanly; and the lock
// dies with its holder (SIGKILL included), so a new process starts at once.
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import t from 'tap';
import { isWingmanError } from '../../core/errors.js';
import { lockDataDir } from '../../core/store/lock-data-dir.js';
import { testEnv } from '../helpers/env.js';
import { ROOT, run } from '../helpers/wingman.js';
import { startUp, type UpProcess } from '../helpers/wingman-up.js';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'wgmtest-ddl-'));
const started: UpProcess[] = [];
t.teardown(async () => {
  for (const p of started) {
    p.child.kill('SIGKILL');
    await p.exited;
  }
  fs.rmSync(dir, { recursive: true, force: true });
});

t.test('in one process: a second lock is refused while held, and taken again after release', async (t) => {
  const d = path.join(dir, 'inproc');
  const first = await lockDataDir(d, 'test');
  t.equal(fs.readFileSync(path.join(d, 'wingman.pid'), 'utf8').trim(), String(process.pid), 'wingman.pid names the holder');
  const second = await lockDataDir(d, 'test').catch((err: unknown) => err);
  t.ok(isWingmanError(second, 'WGM_ERR_STORE_DATA_DIR_IN_USE'), 'refused while held');
  t.match((second as Error).message, `(pid ${process.pid}`, 'names the holder');
  t.equal((second as { details: { pid: number } }).details.pid, process.pid);
  await first.release();
  await first.release(); // idempotent
  t.notOk(fs.existsSync(path.join(d, 'wingman.pid')), 'released: wingman.pid removed');
  const again = await lockDataDir(d, 'test');
  t.pass('taken again after release');
  // Another directory is another lock, and the name is keyed by the directory's own random key.
  const other = await lockDataDir(path.join(dir, 'inproc-other'), 'test');
  t.match(fs.readFileSync(path.join(d, 'lock.key'), 'utf8'), /^[0-9a-f]{64}\n$/, 'a random key in the directory');
  t.equal(fs.statSync(path.join(d, 'lock.key')).mode & 0o777, 0o600, 'the key is readable by its owner only');
  await other.release();
  await again.release();
});

function get(port: number, urlPath: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, path: urlPath }, (res) => {
      let body = '';
      res.on('data', (d) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

t.test('two `wingman up` on one data directory', async (t) => {
  const data = path.join(dir, 'data');
  const env = (sockets: string) => ({
    WINGMAN_DATA_DIR: data,
    WINGMAN_SOCKET_DIR: path.join(dir, sockets),
    WINGMAN_UPSTREAM: testEnv().dockerHost,
    WINGMAN_WORKERS: 'w1',
  });
  const up = async (sockets: string) => {
    const p = await startUp(env(sockets));
    started.push(p);
    return p;
  };
  const ready = (p: UpProcess) => p.waitFor(/"msg":"proxy ready"/);

  const first = await up('s1');
  await ready(first);
  t.equal(fs.readFileSync(path.join(data, 'wingman.pid'), 'utf8').trim(), String(first.pid), 'wingman.pid');
  const token = fs.readFileSync(path.join(data, 'api-token'), 'utf8').trim();
  const added = await run(process.execPath, [path.join(ROOT, 'bin/wingman.js'), 'workers', 'add', 'w2'], {
    PATH: process.env.PATH,
    WINGMAN_CONTROL_URL: `http://127.0.0.1:${first.port}`,
    WINGMAN_API_TOKEN: token,
  });
  t.equal(added.code, 0, `a worker stored in the embedded store (${added.stderr.trim()})`);

  const second = await up('s2');
  const code = await second.exited;
  t.equal(code, 1, 'the second exits 1');
  const lines = second.output().trim().split('\n');
  t.equal(lines.length, 1, `one line (${second.output().trim()})`);
  t.match(lines[0], `wingman: data directory in use: ${fs.realpathSync(data)} is used by wingman up (pid ${first.pid}`, 'names the first by pid');
  t.match(lines[0], /WINGMAN_DATA_DIR/);
  t.notOk(fs.existsSync(path.join(dir, 's2')), 'the second built nothing (no sockets)');
  t.equal(fs.readFileSync(path.join(data, 'wingman.pid'), 'utf8').trim(), String(first.pid), 'wingman.pid still names the first');

  t.equal((await get(first.port, '/health')).status, 200, 'the first still answers');
  const ps = await run('docker', ['ps', '-q'], { PATH: process.env.PATH, HOME: dir, DOCKER_HOST: `unix://${path.join(dir, 's1', 'w1', 'docker.sock')}` });
  t.equal(ps.code, 0, `the first still proxies (${ps.stderr.trim()})`);

  first.child.kill('SIGTERM');
  t.equal(await first.exited, 0, 'the first stops cleanly');
  t.notOk(fs.existsSync(path.join(data, 'wingman.pid')), 'and removes wingman.pid');

  const third = await up('s3');
  await ready(third);
  const workers = await get(third.port, '/health');
  t.equal(workers.status, 200, 'a restart on the same directory starts cleanly');
  const listed = await run(process.execPath, [path.join(ROOT, 'bin/wingman.js'), 'workers'], {
    PATH: process.env.PATH,
    WINGMAN_CONTROL_URL: `http://127.0.0.1:${third.port}`,
    WINGMAN_API_TOKEN: token,
  });
  t.match(listed.stdout, /^w2$/m, 'the store is intact: the worker added before is there');

  third.child.kill('SIGKILL');
  t.equal(await third.exited, 128 + 9, 'killed');
  const fourth = await up('s4');
  await ready(fourth);
  t.equal((await get(fourth.port, '/health')).status, 200, 'after SIGKILL of the holder a new one starts at once');
  t.equal(fs.readFileSync(path.join(data, 'wingman.pid'), 'utf8').trim(), String(fourth.pid));
  fourth.child.kill('SIGTERM');
  t.equal(await fourth.exited, 0);
});
