// A plain `docker run --rm` through the proxy makes only calls the proxy judges, never a request it could not read: the
// `wingman_proxy_requests_total{rule="Invalid"}` counter does not move (the CLI's spare connections, dialled ahead
// and closed unused, and its resets at the end of an attach are not refused calls).
import t from 'tap';
import { TEST_IMAGE } from '../helpers/env.js';
import { startWingman, type Wingman } from '../helpers/wingman.js';

let w: Wingman;
t.before(async () => {
  w = await startWingman();
});
t.teardown(() => w.close());

async function invalid(): Promise<number> {
  const m = (await w.metrics.proxyRequests.get()).values.find((v) => v.labels.rule === 'Invalid');
  return m?.value ?? 0;
}

t.test('docker run --rm through the proxy counts nothing as Invalid', async (t) => {
  const before = await invalid();
  const r = await w.dockerAs('w1', ['run', '--rm', TEST_IMAGE, 'echo', 'hello']);
  t.equal(r.code, 0, r.stderr);
  t.match(r.stdout, /hello/);
  // `-i` attaches with stdin: a command channel, held for the exec approval like any (test/proxy/effects.test.ts).
  // Given, the run goes through, and neither the hold nor the CLI's hijacked connection counts as Invalid.
  const running = w.dockerAs('w1', ['run', '--rm', '-i', TEST_IMAGE, 'cat'], { input: 'through stdin\n' });
  const held = await w.pendingApproval('w1');
  t.equal(held.rule, 'ContainerExec', 'the stdin attach is held as the exec it is');
  await w.control.approvals.answer(held.id, 'approve', 'test');
  const attached = await running;
  t.equal(attached.code, 0, attached.stderr);
  t.match(attached.stdout, /through stdin/);
  t.equal(await invalid(), before, 'the Invalid counter did not move');
  const rows = await w.db.query(`SELECT count(*)::int AS n FROM docker_audit WHERE worker = 'w1' AND rule = 'Invalid'`);
  t.equal(rows.rows[0].n, 0, 'nothing audited as invalid');
});
