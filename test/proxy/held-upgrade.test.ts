// Regression (found by bench/fuzz.ts): a hijack call held for approval (attach with stdin over `Upgrade: tcp`,
// decided as ContainerExec) whose caller went away stayed pending, its waiter still saying it was there, until it
// expired: the server hands an upgraded socket over unread and half-open, so the caller leaving was never seen.
// Approvers saw a live call that nobody waited for.
import net from 'node:net';
import t from 'tap';
import { docker, dockerOk, testName, TEST_IMAGE } from '../helpers/env.js';
import { until } from '../helpers/until.js';
import { startWingman } from '../helpers/wingman.js';

t.test('a held attach whose caller leaves is cancelled and cannot be approved', async (t) => {
  const w = await startWingman();
  const name = testName('heldup');
  t.teardown(async () => {
    await docker(['rm', '-f', name]);
    await w.close();
  });
  await dockerOk(['run', '-d', '--name', name, TEST_IMAGE, 'sleep', '600']);
  await w.adopt('w1', 'container', name);

  for (const leave of ['destroy', 'end'] as const) {
    const s = net.connect(w.proxy.socketPath('w1'));
    await new Promise((r) => s.once('connect', r));
    s.on('error', () => undefined);
    s.write(
      `POST /v1.41/containers/${name}/attach?stream=1&stdin=1&stdout=1 HTTP/1.1\r\nHost: docker\r\nConnection: Upgrade\r\nUpgrade: tcp\r\n\r\n`,
    );
    const held = await until('a held attach', async () => {
      const list = await w.control.approvals.list({ worker: 'w1', status: 'pending' });
      return list.find((a) => a.rule === 'ContainerExec');
    }, 10_000);
    if (leave === 'destroy') s.destroy();
    else s.end();
    const after = await until(`the held attach cancelled after the caller's ${leave}`, async () => {
      const a = await w.control.approvals.get(held.id);
      return a?.status !== 'pending' ? a : undefined;
    }, 5_000);
    t.equal(after.status, 'cancelled', `${leave}: cancelled`);
    await t.rejects(w.control.approvals.answer(held.id, 'approve', 'ops'), { code: 'WGM_ERR_APPROVAL_NOT_PENDING' }, `${leave}: cannot be approved`);
    s.destroy();
  }
  t.equal((await docker(['inspect', '-f', '{{.State.Running}}', name])).stdout.trim(), 'true', 'the container is untouched');
});
