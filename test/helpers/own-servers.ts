// A test's own Postgres and Redis servers, on loopback ports of their own, that the test may stop and start as it
// likes (an outage as the application really sees it) without touching the servers other tests share.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { freePort } from './wingman-up.js';

const exec = promisify(execFile);

async function waitForPort(port: number, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const ok = await new Promise<boolean>((resolve) => {
      const c = net.connect(port, '127.0.0.1');
      c.once('connect', () => (c.destroy(), resolve(true)));
      c.once('error', () => resolve(false));
    });
    if (ok) return;
    if (Date.now() > deadline) throw new Error(`nothing listening on 127.0.0.1:${port} after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

export interface OwnServer {
  url: string;
  port: number;
  /** stop the server (immediately, as a crash would) */
  stop(): Promise<void>;
  /** start it again on the same port (Redis: empty, as a restart without persistence is) */
  start(): Promise<void>;
  /** stop it and remove everything it wrote */
  remove(): Promise<void>;
}

async function started(url: string, port: number, dir: string, start: () => Promise<void>, stop: () => Promise<void>): Promise<OwnServer> {
  await start();
  return {
    url,
    port,
    start,
    stop,
    async remove() {
      await stop();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** A redis-server that keeps nothing on disk: a restart loses every key. */
export async function startOwnRedis(): Promise<OwnServer> {
  const port = await freePort();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'wgmtest-redis-'));
  let child: ChildProcess | undefined;
  const start = async () => {
    if (child && child.exitCode === null) return;
    child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir], {
      stdio: 'ignore',
    });
    await waitForPort(port);
  };
  const stop = async () => {
    const c = child;
    child = undefined;
    if (!c || c.exitCode !== null) return;
    await new Promise<void>((resolve) => {
      c.once('exit', () => resolve());
      c.kill('SIGKILL');
    });
  };
  return started(`redis://127.0.0.1:${port}`, port, dir, start, stop);
}

function pgBin(name: string): string {
  const versions = fs.readdirSync('/usr/lib/postgresql').sort();
  return path.join('/usr/lib/postgresql', versions[versions.length - 1], 'bin', name);
}

/** Postgres refuses to run as root: as root, its commands run as the postgres user. */
function asPostgres(cmd: string, args: string[]): [string, string[]] {
  return process.getuid?.() === 0 ? ['runuser', ['-u', 'postgres', '--', cmd, ...args]] : [cmd, args];
}

/** A Postgres cluster of the test's own (initdb in a temp dir, trust auth, loopback only). */
export async function startOwnPostgres(): Promise<OwnServer> {
  const port = await freePort();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'wgmtest-pg-'));
  if (process.getuid?.() === 0) await exec('chown', ['postgres:postgres', dir]);
  const data = path.join(dir, 'data');
  await exec(...asPostgres(pgBin('initdb'), ['-D', data, '-A', 'trust', '-U', 'postgres', '--no-sync']));
  const ctl = (args: string[]) => exec(...asPostgres(pgBin('pg_ctl'), ['-D', data, ...args]));
  const start = async () => {
    if (await ctl(['status']).then(() => true, () => false)) return;
    await ctl(['-o', `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off`, '-l', path.join(dir, 'log'), '-w', 'start']);
    await waitForPort(port);
  };
  const stop = async () => {
    await ctl(['-m', 'immediate', '-w', 'stop']).catch(() => undefined);
  };
  return started(`postgres://postgres@127.0.0.1:${port}/postgres`, port, dir, start, stop);
}
