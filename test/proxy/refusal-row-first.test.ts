// Regression: when the audit log began writing the lines of one turn of the event loop together, a refusal's row
// (its only row: a refused call logs no intent) was queued and its answer sent at once. A process killed between the
// two had answered a call it kept no row of (test/proxy/audit-kill.test.ts lost rows in CI). Now the refusal's line
// is in the log file before its answer is written; checked here at the moment the answer goes out.
import fs from 'node:fs';
import http, { ServerResponse } from 'node:http';
import path from 'node:path';
import t from 'tap';
import { startWingman } from '../helpers/wingman.js';

/** Every line of the proxy's audit log files. */
function logged(dir: string): string {
  return fs
    .readdirSync(dir)
    .map((f) => fs.readFileSync(path.join(dir, f), 'utf8'))
    .join('');
}

t.test("a refused call's row is in the audit log before its answer goes out", async (t) => {
  const w = await startWingman();
  t.teardown(() => w.close());
  const dir = path.join(w.config.dataDir, 'audit-log', 'proxy');
  // Refused by Wingman itself, each for another reason: a name that does not exist (404), a route the policy denies
  // (403), a form-encoded body (415).
  const paths = ['/v1.41/containers/wgmtest-refusal-row-missing/json', '/v1.41/session', '/v1.41/containers/wgmtest-refusal-row-form/start'];
  const lines = () => logged(dir).split('\n').filter(Boolean);
  let before = 0;
  const seen = new Map<string, boolean>();
  // At the moment an answer's head is written: is the refused call's row in the log already?
  type WriteHead = (this: ServerResponse, ...args: unknown[]) => ServerResponse;
  const proto = ServerResponse.prototype as unknown as { writeHead: WriteHead };
  const realWriteHead = proto.writeHead;
  proto.writeHead = function (this: ServerResponse, ...args: unknown[]) {
    const url = this.req?.url ?? '';
    // The refused call's path in a line written since the request was sent.
    const wanted = JSON.stringify(url.replace(/^\/v1\.41/, '')).slice(1, -1);
    if (paths.includes(url)) seen.set(url, lines().slice(before).some((l) => l.includes(`"path":"${wanted}"`)));
    return realWriteHead.apply(this, args);
  };
  t.teardown(() => {
    proto.writeHead = realWriteHead;
  });
  for (const p of paths) {
    const t0 = Date.now();
    before = lines().length;
    const status = await new Promise<number>((resolve, reject) => {
      const form = p.includes('-form');
      const post = form || p.endsWith('/session');
      const headers = form ? { 'content-type': 'application/x-www-form-urlencoded', 'content-length': '5' } : undefined;
      const req = http.request({ socketPath: w.proxy.socketPath('w1'), path: p, method: post ? 'POST' : 'GET', headers }, (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      });
      req.on('error', reject);
      req.end(form ? 'Image' : undefined);
    });
    t.ok(status >= 400 && status < 500, `${p}: refused (${status}, ${Date.now() - t0} ms)`);
    t.equal(seen.get(p), true, `${p}: its row was in the log when the answer was written`);
  }
});
