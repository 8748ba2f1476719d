// The real `wingman up` as a child process (bin/wingman.js), for what only a process can show: being killed, and
// being started twice. It uses the test's own database and a prefixed Redis; close() stops it and removes its files.
import type { ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { testEnv } from './env.js';
import { freePort, startUp } from './wingman-up.js';

export interface WingmanProcess {
  child: ChildProcess;
  dir: string;
  controlUrl: string;
  apiToken: string;
  env: Record<string, string>;
  socketPath(worker: string): string;
  /** everything it printed */
  output(): string;
  /** resolves with the exit code (128 + signal number when killed) */
  exited: Promise<number>;
  kill(signal?: NodeJS.Signals): Promise<number>;
  /** start another process on the same directories, database and Redis prefix */
  restart(): Promise<WingmanProcess>;
  close(): Promise<void>;
}

function ping(socketPath: string): Promise<boolean> {
  return new Promise((resolve) => {
    const req = http.get({ socketPath, path: '/_ping', timeout: 1000 }, (res) => {
      res.resume();
      resolve(res.statusCode === 200);
    });
    req.on('error', () => resolve(false));
    req.on('timeout', () => req.destroy());
  });
}

export async function spawnWingman(opts: { databaseUrl: string; env?: Record<string, string>; dir?: string; apiToken?: string; prefix?: string }): Promise<WingmanProcess> {
  const dir = opts.dir ?? fs.mkdtempSync(path.join(os.tmpdir(), 'wgmtest-p-'));
  const apiToken = opts.apiToken ?? `wgmtest-token-${randomBytes(12).toString('hex')}`;
  const prefix = opts.prefix ?? `wgmtest-${randomBytes(4).toString('hex')}`;
  const port = await freePort();
  const env: Record<string, string> = {
    DATABASE_URL: opts.databaseUrl,
    REDIS_URL: testEnv().redisUrl,
    WINGMAN_REDIS_PREFIX: prefix,
    WINGMAN_DATA_DIR: path.join(dir, 'data'),
    WINGMAN_SOCKET_DIR: path.join(dir, 's'),
    WINGMAN_UPSTREAM: testEnv().dockerHost,
    WINGMAN_WORKERS: 'w1,w2',
    WINGMAN_APPROVAL_TIMEOUT_S: '120',
    WINGMAN_API_TOKEN: apiToken,
    WINGMAN_HOST: '127.0.0.1',
    WINGMAN_PORT: String(port),
    ...opts.env,
  };
  const up = await startUp(env);
  const { child, exited } = up;
  const socketPath = (w: string) => path.join(dir, 's', w, 'docker.sock');
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null) throw new Error(`wingman up exited early:\n${up.output()}`);
    if (await ping(socketPath('w1'))) break;
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`wingman up not ready after 60 s:\n${up.output()}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  const p: WingmanProcess = {
    child,
    dir,
    controlUrl: `http://127.0.0.1:${port}`,
    apiToken,
    env,
    socketPath,
    output: up.output,
    exited,
    async kill(signal = 'SIGTERM') {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      return exited;
    },
    restart: () => spawnWingman({ ...opts, dir, apiToken, prefix }),
    async close() {
      await p.kill('SIGKILL');
      if (!opts.dir) fs.rmSync(dir, { recursive: true, force: true });
    },
  };
  return p;
}
