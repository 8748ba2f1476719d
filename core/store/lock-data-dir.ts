// One process per data directory. Two processes on one WINGMAN_DATA_DIR open the same PGlite files (and append to
// the same spools); with the embedded store that corrupted the directory. So every process that uses the data
// directory holds this lock for its lifetime, taken before anything in the directory is opened or written.
//
// Why an abstract unix socket and not a lock file: the lock has to vanish the moment its holder dies, SIGKILL and
// OOM kills included, with no staleness window. proper-lockfile (the well-kept npm choice) decides staleness by a
// lock directory's mtime that the holder keeps touching: a killed holder blocks restarts until the stale time
// passes, and a holder whose event loop stalls past it loses the lock to a second process while still running.
// flock(2) would be right, but Node has no binding for it (fs-ext is a native addon). A Linux abstract socket name
// is owned by the kernel: it is released when the last descriptor closes, i.e. when the process dies, and a second
// bind gets EADDRINUSE atomically. The holder answers on it with its pid, so the refusal can name it.
//
// Abstract names have no file permissions and are scoped to a network namespace, and a sidecar shares its worker's.
// The name therefore includes a random key kept in the data directory (0600, in a 0700 directory), so a worker that
// cannot read the directory cannot guess the name and squat it to keep its sidecar from starting. (A second process
// in another network namespace, e.g. another container mounting the same directory, is not seen: give each
// container its own data directory.) `wingman.pid` is written too, for people; the socket is the lock.
import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { wingmanError } from '../errors.js';

export interface DataDirLock {
  readonly dataDir: string;
  /** Give the directory up (idempotent); another open, in this process or another, may take it afterwards. */
  release(): Promise<void>;
}

interface Holder {
  pid: number;
  command?: string;
  since?: string;
}

const KEY_FILE = 'lock.key';
const PID_FILE = 'wingman.pid';

/** The directory's random key, made once: written whole to a temporary file, then linked (link fails if it exists). */
function lockKey(dir: string): string {
  const file = path.join(dir, KEY_FILE);
  try {
    return fs.readFileSync(file, 'utf8').trim();
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  const tmp = path.join(dir, `.${KEY_FILE}.${process.pid}.${randomBytes(4).toString('hex')}`);
  fs.writeFileSync(tmp, randomBytes(32).toString('hex') + '\n', { mode: 0o600 });
  try {
    fs.linkSync(tmp, file);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
  } finally {
    fs.rmSync(tmp, { force: true });
  }
  return fs.readFileSync(file, 'utf8').trim();
}

/** Ask the holder who it is (it answers one JSON line); undefined if it does not answer within a second. */
function askHolder(name: string): Promise<Holder | undefined> {
  return new Promise((resolve) => {
    let text = '';
    const sock = net.connect(name);
    const done = (h: Holder | undefined) => {
      sock.destroy();
      resolve(h);
    };
    sock.setTimeout(1000, () => done(undefined));
    sock.on('data', (d) => {
      text += d.toString('utf8');
      if (text.length > 4096) done(undefined);
    });
    sock.on('end', () => {
      try {
        const h = JSON.parse(text) as Holder;
        done(Number.isInteger(h.pid) ? h : undefined);
      } catch {
        done(undefined);
      }
    });
    sock.on('error', () => done(undefined));
  });
}

function pidFromFile(dir: string): number | undefined {
  try {
    const pid = Number(fs.readFileSync(path.join(dir, PID_FILE), 'utf8').trim());
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Take `dataDir` (created if missing) for this process, or throw WGM_ERR_STORE_DATA_DIR_IN_USE naming the holder's
 * pid, having changed nothing in the directory.
 */
export async function lockDataDir(dataDir: string, command = 'wingman'): Promise<DataDirLock> {
  fs.mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const real = fs.realpathSync(dataDir);
  const name = '\0wingman-datadir-' + createHash('sha256').update(`${real}\0${lockKey(real)}`).digest('hex');
  const me: Holder = { pid: process.pid, command, since: new Date().toISOString() };
  const server = net.createServer((conn) => {
    conn.on('error', () => undefined);
    conn.end(JSON.stringify(me) + '\n');
  });
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(name, () => {
        server.off('error', reject);
        resolve();
      });
    });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EADDRINUSE') {
      throw wingmanError('WGM_ERR_STORE_UNAVAILABLE', `cannot lock the data directory ${real}: ${(err as Error).message}`, undefined, err);
    }
    const holder = (await askHolder(name)) ?? { pid: pidFromFile(real) ?? NaN };
    const who = Number.isNaN(holder.pid) ? 'another process' : `${holder.command ? `wingman ${holder.command}` : 'another process'} (pid ${holder.pid}${holder.since ? `, since ${holder.since}` : ''})`;
    throw wingmanError(
      'WGM_ERR_STORE_DATA_DIR_IN_USE',
      `${real} is used by ${who}; stop it, or give this process its own WINGMAN_DATA_DIR`,
      { pid: holder.pid, dataDir: real },
    );
  }
  // The lock lives as long as the process, but must not keep it alive on its own.
  server.unref();
  const pidFile = path.join(real, PID_FILE);
  fs.writeFileSync(pidFile, `${process.pid}\n`, { mode: 0o644 });
  let released = false;
  return {
    dataDir: real,
    async release() {
      if (released) return;
      released = true;
      if (pidFromFile(real) === process.pid) fs.rmSync(pidFile, { force: true });
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
