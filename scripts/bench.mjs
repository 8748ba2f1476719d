#!/usr/bin/env node
// `npm run bench -- <name>`: bring up the test environment (as npm test does) and run bench/<name>.ts.
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
process.chdir(root);
const name = process.argv[2];
if (!name) {
  console.error('usage: npm run bench -- <proxy|proxy-ab|proxy-load|gate|claims|validate|alerts|secrets|faults|console|fuzz|two-proxies|audit-ship|memory|up-ab|c1-tail> [args]');
  process.exit(2);
}
const envOut = spawnSync('flock', ['-o', '/tmp/wgmtest-env.lock', process.execPath, 'scripts/test-env.mjs', '--json'], {
  encoding: 'utf8',
  stdio: ['ignore', 'pipe', 'inherit'],
});
if (envOut.status !== 0) process.exit(envOut.status ?? 1);
const env = JSON.parse(envOut.stdout.trim().split('\n').pop());
// Transpile only, as tap runs the tests: without it the TypeScript loader type-checks every module (at start, and on
// each lazy import during a run) in a thread of the measured process, with a heap of ~500 MB: a core busy for seconds
// and stalls no compiled Wingman has. The types are checked by `npm run typecheck`.
const r = spawnSync(process.execPath, ['--import', '@tapjs/typescript/import', `bench/${name}.ts`, ...process.argv.slice(3)], {
  stdio: 'inherit',
  env: { ...process.env, ...env, DOCKER_HOST: env.WGMTEST_DOCKER_HOST, TS_NODE_TRANSPILE_ONLY: '1' },
});
process.exit(r.status ?? 1);
