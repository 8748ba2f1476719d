// Regression (found by bench/fuzz.ts): a reference the engine cannot parse (`DELETE /images/<image>/tag`,
// an upper-case repository) made the proxy's own inspect of it fail with the engine's 400, and the caller got
// `502 docker engine error`, as if the engine were broken. Bad input is the caller's: a 400 in Docker's error
// shape naming what the engine said, and nothing changes.
import http from 'node:http';
import t from 'tap';
import { docker, TEST_IMAGE } from '../helpers/env.js';
import { startWingman, type Wingman } from '../helpers/wingman.js';

let w: Wingman;
t.before(async () => {
  w = await startWingman();
});
t.teardown(() => w.close());

function call(method: string, path: string): Promise<{ status: number; json: { message?: string } }> {
  return new Promise((resolve, reject) => {
    const req = http.request({ socketPath: w.proxy.socketPath('w1'), method, path }, (res) => {
      let text = '';
      res.on('data', (d) => (text += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, json: JSON.parse(text || '{}') as { message?: string } }));
    });
    req.on('error', reject);
    req.end();
  });
}

for (const [method, path] of [
  ['DELETE', `/v1.41/images/${TEST_IMAGE}/tag?force=1`],
  ['DELETE', '/v1.41/images/WGMTEST-Upper:latest'],
  ['POST', '/v1.41/images/WGMTEST-Upper:latest/tag?repo=wgmtest-badref&tag=x'],
] as const) {
  t.test(`${method} ${path}: 400, not 502`, async (t) => {
    const r = await call(method, path);
    t.equal(r.status, 400, r.json.message ?? '(no message)');
    t.match(r.json.message ?? '', /reference/i, 'names what is wrong with the reference');
    t.equal((await docker(['image', 'inspect', TEST_IMAGE])).code, 0, 'the image is still there');
    t.equal(await w.control.approvals.list({ worker: 'w1', status: 'pending' }).then((l) => l.length), 0, 'nothing held');
  });
}
