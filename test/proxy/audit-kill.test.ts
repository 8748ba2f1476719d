// Regression (#11.3): the audit could lose executed calls. Rows were queued in memory after the response and written
// in batches; SIGKILLs under load lost 53, 16, 4 and 0 rows of calls whose responses the client had received. Now the
// intent is in a local append-only log before the call is forwarded: kill the process under load, start it again,
// and every call the client got a response for has its row.
import http from 'node:http';
import t from 'tap';
import { PgDb } from '../../core/store/pg-db.js';
import { createTestDatabase } from '../helpers/db.js';
import { until } from '../helpers/until.js';
import { spawnWingman } from '../helpers/wingman-process.js';

function get(agent: http.Agent, socketPath: string, path: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = http.get({ agent, socketPath, path }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
      res.on('error', reject);
    });
    req.on('error', reject);
  });
}

t.test('SIGKILL under load loses no audit row of a call the client got an answer to', async (t) => {
  const database = await createTestDatabase();
  const db = new PgDb({ url: database.url });
  let proc = await spawnWingman({ databaseUrl: database.url });
  t.teardown(async () => {
    await proc.close();
    await db.close();
    await database.drop();
  });

  for (let round = 0; round < 2; round++) {
    const answered: string[] = [];
    const agent = new http.Agent({ keepAlive: true, maxSockets: 8 });
    let stop = false;
    let n = 0;
    const client = async (c: number) => {
      while (!stop) {
        const i = n++;
        // One path per call, so each answer can be matched to its row: an image inspect the engine answers (404),
        // and a container inspect Wingman answers itself.
        const path = i % 2 ? `/v1.41/images/wgmtest-kill-${round}-${c}-${i}/json` : `/v1.41/containers/wgmtest-kill-${round}-${c}-${i}/json`;
        try {
          await get(agent, proc.socketPath('w1'), path);
          answered.push(path.replace(/^\/v1\.41/, ''));
        } catch {
          return; // the process is gone
        }
      }
    };
    const clients = Array.from({ length: 8 }, (_, c) => client(c));
    await new Promise((r) => setTimeout(r, 2_500));
    t.equal(await proc.kill('SIGKILL'), 137, `round ${round}: killed under load`);
    stop = true;
    await Promise.all(clients);
    agent.destroy();
    t.ok(answered.length > 100, `round ${round}: ${answered.length} calls answered before the kill`);

    proc = await proc.restart();
    const missing = await until(`round ${round}: every answered call in the store`, async () => {
      const { rows } = await db.query<{ path: string }>(`SELECT path FROM docker_audit WHERE path = ANY($1::text[])`, [answered]);
      const have = new Set(rows.map((r) => r.path));
      const left = answered.filter((p) => !have.has(p));
      return left.length === 0 ? left : undefined;
    }, 30_000).catch(() => undefined);
    t.same(missing, [], `round ${round}: no row lost`);
  }
});
