// The sidecar refuses to run as root or as its worker's uid. Pure cases, then a worker that runs as a named user
// resolved through its own /etc/passwd, read through the sidecar's proxy identity.
import t from 'tap';
import { assertSidecarUid, uidProblem, workerUid } from '../../sidecar/uid-check.js';
import { migratedTestDb } from '../helpers/db.js';
import { startSidecarEnv, startWorkerBox } from './sidecar-env.js';

const PASSWD = 'root:x:0:0:root:/root:/bin/sh\nnode:x:1000:1000::/home/node:/bin/sh\nbroken:x:abc:1::/:/bin/false\n';

t.test('workerUid: Config.User forms', async (t) => {
  const cases: Array<[string, string | undefined, number | RegExp]> = [
    ['', undefined, 0],
    ['0', undefined, 0],
    ['1000', undefined, 1000],
    ['1000:1000', undefined, 1000],
    ['root', PASSWD, 0],
    ['node', PASSWD, 1000],
    ['node:staff', PASSWD, 1000],
    ['ghost', PASSWD, /user "ghost" is not in the worker container's \/etc\/passwd/],
    ['broken', PASSWD, /not in the worker/],
    ['node', undefined, /not in the worker/],
  ];
  for (const [user, passwd, want] of cases) {
    const got = workerUid(user, passwd);
    if (typeof want === 'number') t.equal(got, want, JSON.stringify(user));
    else t.match((got as { reason: string }).reason, want, JSON.stringify(user));
  }
});

t.test('uidProblem', async (t) => {
  t.match(uidProblem(0, false, 1000), /must not run as root/);
  t.equal(uidProblem(0, true, 1000), undefined, 'root allowed explicitly, next to a non-root worker');
  t.match(uidProblem(0, true, 0), /uid 0, the same as its worker's/);
  t.match(uidProblem(1000, false, 1000), /uid 1000, the same as its worker's/);
  t.match(uidProblem(1001, false, { reason: 'x' }), /cannot tell the worker container's uid \(x\)/);
  t.equal(uidProblem(1001, false, 1000), undefined);
  t.equal(uidProblem(1001, false, 0), undefined, 'a non-root sidecar next to a root worker');
});

t.test('a worker running as a named user, through the proxy identity', async (t) => {
  const tdb = await migratedTestDb();
  const box = await startWorkerBox('uid', ['--user', 'nobody']);
  const sc = await startSidecarEnv({ databaseUrl: tdb.url, container: box.name, bus: 'memory' });
  t.teardown(async () => {
    await sc.close();
    await box.remove();
    await tdb.drop();
  });
  await t.rejects(assertSidecarUid(sc.app.container, 65534, false), { code: 'WGM_ERR_CONFIG_INVALID', message: /uid 65534, the same/ });
  await t.resolves(assertSidecarUid(sc.app.container, 10001, false));
  await t.rejects(assertSidecarUid(sc.app.container, 0, false), { message: /must not run as root/ });
});
