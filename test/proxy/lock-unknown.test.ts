// Regression (#11.1): with the store down and the Redis mirror missing the lock key (Redis restarted without
// persistence, or the lock was set while Redis was away), the proxy answered "not locked" and a locked-down worker
// created a container. Unknown must stay unknown, and the mirror is re-synced from the store when Redis comes back.
// The test runs its own Postgres and Redis and stops and starts them; the shared servers are never touched.
import t from 'tap';
import { Redis } from 'ioredis';
import { createLogger } from '../../core/log.js';
import { defaultMigrationsDir, migrate } from '../../core/store/migrate.js';
import { PgDb } from '../../core/store/pg-db.js';
import { docker, testName, TEST_IMAGE } from '../helpers/env.js';
import { startOwnPostgres, startOwnRedis } from '../helpers/own-servers.js';
import { until } from '../helpers/until.js';
import { startWingman } from '../helpers/wingman.js';

t.test('lockdown state that cannot be known refuses; the mirror re-syncs when Redis is back', async (t) => {
  const pg = await startOwnPostgres();
  const redis = await startOwnRedis();
  const direct = new PgDb({ url: pg.url });
  await migrate(direct, defaultMigrationsDir(), createLogger({ level: 'silent' }));
  await direct.close();
  const w = await startWingman({ databaseUrl: pg.url, redisUrl: redis.url });
  const made: string[] = [];
  t.teardown(async () => {
    await pg.start().catch(() => undefined);
    await redis.start().catch(() => undefined);
    for (const n of made) await docker(['rm', '-f', n]);
    await w.close();
    await redis.remove();
    await pg.remove();
  });

  const ops = (path: string, body: object) =>
    fetch(`${w.controlUrl}${path}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${w.apiToken}`, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
  const lockKey = `${w.config.redisPrefix}:lock:w1`;
  const peek = async () => {
    const r = new Redis(redis.url, { maxRetriesPerRequest: 1 });
    try {
      return await r.get(lockKey);
    } finally {
      r.disconnect();
    }
  };
  /** try to create a container as w1; returns the CLI result and whether the engine has it */
  const create = async (worker = 'w1') => {
    const name = testName('lockunk');
    made.push(name);
    const r = await w.dockerAs(worker, ['create', '--name', name, TEST_IMAGE, 'true']);
    const exists = (await docker(['inspect', '-f', '{{.Id}}', name])).code === 0;
    return { ...r, exists };
  };
  const restartRedis = async () => {
    await redis.stop();
    await redis.start();
  };

  for (const name of ['w1', 'w2']) t.equal((await ops('/workers', { name })).status, 201, `worker ${name} registered`);
  t.equal((await ops('/workers/w1/lockdown', { by: 'test', why: 'lied about tests' })).status, 200);
  t.equal(await peek(), 'lied about tests', 'the lock is mirrored');

  await t.test('Redis restarted empty while the store is down: unknown, refused', async (t) => {
    await pg.stop();
    await restartRedis();
    t.equal(await peek(), null, 'the restarted Redis has lost the lock key');
    // Give the proxy's Redis connection time to come back, so it is Redis answering (not a dropped connection).
    await until('the bus to reach Redis again', async () => (await w.bus.ping()) === true, 10_000);
    const r = await create();
    t.not(r.code, 0);
    t.match(r.stderr, /lockdown state unknown/);
    t.notOk(r.exists, 'the engine has no such container');
    const other = await create('w2');
    t.not(other.code, 0, 'a worker that is not locked cannot be told apart while the mirror is out of step: refused too');
    t.notOk(other.exists);
    await pg.start();
  });

  await t.test('the mirror is re-synced from the store once it is back', async (t) => {
    await until('the lock key back in Redis', async () => (await peek()) === 'lied about tests', 15_000);
    t.pass('the lock key is back in Redis');
    await pg.stop();
    const r = await create();
    t.not(r.code, 0);
    t.match(r.stderr, /locked/);
    t.notMatch(r.stderr, /unknown/, 'known from the mirror alone');
    t.notOk(r.exists);
    await pg.start();
  });

  await t.test('Redis restarted while the store is up: re-synced at once', async (t) => {
    await restartRedis();
    await until('the lock key back in Redis', async () => (await peek()) === 'lied about tests', 10_000);
    await pg.stop();
    const r = await create();
    t.not(r.code, 0);
    t.match(r.stderr, /locked/);
    t.notOk(r.exists);
    await pg.start();
  });

  await t.test('a lock set while Redis was away still holds when Redis is back and the store is gone', async (t) => {
    t.equal((await ops('/workers/w1/unlock', { by: 'test', why: 'reviewed' })).status, 200);
    await until('the lock key cleared', async () => (await peek()) === null, 10_000);
    await redis.stop();
    t.equal((await ops('/workers/w1/lockdown', { by: 'test', why: 'second lie' })).status, 200, 'the store takes the lock');
    await pg.stop();
    await redis.start();
    await until('the bus to reach Redis again', async () => (await w.bus.ping()) === true, 10_000);
    const r = await create();
    t.not(r.code, 0);
    t.notOk(r.exists, 'refused: locked, or unknown, never "not locked"');
    await until('the missed lock written', async () => (await peek()) === 'second lie', 10_000);
    t.pass('the lock that Redis missed is written once it is back');
    await pg.start();
  });

  await t.test('an unlocked worker with a mirror in step works while the store is down', async (t) => {
    await until('the mirror stamped in step', async () => {
      const r = new Redis(redis.url, { maxRetriesPerRequest: 1 });
      try {
        return (await r.get(`${w.config.redisPrefix}:lockmirror:synced`)) !== null;
      } finally {
        r.disconnect();
      }
    }, 15_000);
    await pg.stop();
    const ok = await create('w2');
    t.equal(ok.code, 0, ok.stderr);
    t.ok(ok.exists);
    await pg.start();
  });
});
