import http from 'node:http';
import { createTestDatabase } from '../test/helpers/db.js';
import { spawnWingman } from '../test/helpers/wingman-process.js';
const database = await createTestDatabase();
const p = await spawnWingman({ databaseUrl: database.url, env: { WINGMAN_LOG_LEVEL: 'warn' } });
const agent = new http.Agent({ keepAlive: true, maxSockets: 100 });
let stop = false; let n = 0;
setTimeout(() => (stop = true), 10000);
await Promise.all(Array.from({ length: 100 }, async (_, c) => {
  while (!stop) {
    const i = n++;
    const path = i % 3 === 0 ? '/_ping' : `/v1.41/images/wgmbench-${c}-${i}/json`;
    await new Promise<void>((resolve) => { const r = http.get({ agent, socketPath: p.socketPath('w1'), path }, (res) => { res.resume(); res.on('end', resolve); }); r.on('error', () => resolve()); });
  }
}));
console.log('calls', n, (n / 10).toFixed(0), '/s', 'output bytes', p.output().length);
console.log(p.output().split('\n').slice(0, 8).join('\n'));
agent.destroy();
await p.kill('SIGTERM');
await database.drop();
