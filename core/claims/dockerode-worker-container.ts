// WorkerContainer over the Docker Engine API (dockerode). Exec-free where the API allows it:
//   stat            HEAD /containers/{id}/archive?path=   (X-Docker-Container-Path-Stat)
//   file contents   GET  /containers/{id}/archive?path=   (a tar of the one file, streamed and hashed)
//   processes       GET  /containers/{id}/top             (the container's cgroup only)
//   changes         GET  /containers/{id}/changes
//   info            GET  /containers/{id}/json
// Exec (POST /containers/{id}/exec) only for what the API cannot read: /proc/net/tcp (the archive endpoint reads the
// container's filesystem from the engine's side, where /proc is not mounted: it answers 404) and test re-runs.
import { createHash } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { PassThrough, Writable } from 'node:stream';
import type Dockerode from 'dockerode';
import { wingmanError, isWingmanError } from '../errors.js';
import { readFirstTarFile } from './tar-first-file.js';
import {
  MODE_DIR,
  type ChangeKind,
  type ContainerInfo,
  type ExecResult,
  type FileRead,
  type OtherContainer,
  type PathStat,
  type ProcessEntry,
  type WorkerContainer,
} from './worker-container.js';

const INFO_TTL_MS = 2_000;
const CHANGES_TTL_MS = 250;

interface DockerError extends Error {
  statusCode?: number;
  code?: string;
  json?: { message?: string } | null;
}

function statusOf(err: unknown): number | undefined {
  return (err as DockerError)?.statusCode;
}

/** Docker could not be asked (socket gone, engine error): the caller retries later. */
function unavailable(what: string, err: unknown): Error {
  if (isWingmanError(err)) return err;
  const e = err as DockerError;
  const detail = e?.json?.message ?? e?.message ?? String(err);
  return wingmanError('WGM_ERR_CLAIM_VERIFY_UNAVAILABLE', `${what}: ${String(detail).slice(0, 300)}`, { status: e?.statusCode }, err);
}

export class DockerodeWorkerContainer implements WorkerContainer {
  private cached: { info: ContainerInfo; at: number } | undefined;
  private changesCache: { value: Map<string, ChangeKind>; at: number } | undefined;

  constructor(
    private readonly docker: Dockerode,
    /** the worker container's id or name (WINGMAN_WORKER_CONTAINER) */
    private readonly ref: string,
  ) {}

  async info(): Promise<ContainerInfo> {
    if (this.cached && Date.now() - this.cached.at < INFO_TTL_MS) return this.cached.info;
    let data: Dockerode.ContainerInspectInfo;
    try {
      data = await this.docker.getContainer(this.ref).inspect();
    } catch (err) {
      this.cached = undefined;
      if (statusOf(err) === 404) throw wingmanError('WGM_ERR_CLAIM_CONTAINER_MISSING', this.ref.slice(0, 128));
      throw unavailable('inspect worker container', err);
    }
    const env = data.Config?.Env ?? [];
    const homeVar = env.find((e) => e.startsWith('HOME='))?.slice(5);
    const user = data.Config?.User ?? '';
    const info: ContainerInfo = {
      id: data.Id,
      name: data.Name.replace(/^\//, ''),
      running: data.State?.Running === true,
      status: data.State?.Status ?? 'unknown',
      workingDir: data.Config?.WorkingDir || '/',
      user,
      home: homeVar || (user === '' || user === 'root' || user === '0' || user.startsWith('0:') ? '/root' : undefined),
      // Volumes, binds, tmpfs and the runtime's own mounts: files there are not in the container's layer.
      mounts: [
        ...(data.Mounts ?? []).map((m) => m.Destination),
        ...Object.keys((data.HostConfig as { Tmpfs?: Record<string, string> } | undefined)?.Tmpfs ?? {}),
        '/proc',
        '/sys',
        '/dev',
      ].filter(Boolean),
    };
    this.cached = { info, at: Date.now() };
    return info;
  }

  private async container() {
    return this.docker.getContainer((await this.info()).id);
  }

  async stat(path: string): Promise<PathStat | undefined> {
    const c = await this.container();
    let res: IncomingMessage;
    try {
      res = (await c.infoArchive({ path })) as IncomingMessage; // dockerode types it any: the raw response
    } catch (err) {
      const status = statusOf(err);
      // 404: no such path (the container exists: info() just said so). 400: a path through a file (ENOTDIR).
      if (status === 404 || status === 400) {
        await this.assertExists();
        return undefined;
      }
      throw unavailable('stat', err);
    }
    res.resume();
    const header = res.headers['x-docker-container-path-stat'];
    if (typeof header !== 'string') throw wingmanError('WGM_ERR_CLAIM_VERIFY_UNAVAILABLE', 'stat: engine sent no path stat');
    let raw: { name: string; size: number; mode: number; mtime: string; linkTarget: string };
    try {
      raw = JSON.parse(Buffer.from(header, 'base64').toString('utf8')) as typeof raw;
    } catch (err) {
      throw unavailable('stat: unreadable path stat', err);
    }
    return {
      name: raw.name,
      size: raw.size,
      mode: raw.mode >>> 0,
      mtime: new Date(raw.mtime),
      mtimeText: raw.mtime,
      linkTarget: raw.linkTarget ?? '',
      isDir: ((raw.mode >>> 0) & MODE_DIR) !== 0,
    };
  }

  async readFile(path: string, maxBytes: number): Promise<FileRead | undefined> {
    const c = await this.container();
    let stream: NodeJS.ReadableStream;
    try {
      stream = await c.getArchive({ path });
    } catch (err) {
      const status = statusOf(err);
      if (status === 404 || status === 400) {
        await this.assertExists();
        return undefined;
      }
      throw unavailable('read', err);
    }
    const hash = createHash('sha256');
    const chunks: Buffer[] = [];
    let kept = 0;
    let over = false;
    let entry;
    try {
      entry = await readFirstTarFile(stream as unknown as PassThrough, (chunk) => {
        hash.update(chunk);
        if (!over) {
          if (kept + chunk.length > maxBytes) {
            over = true;
            chunks.length = 0;
          } else {
            chunks.push(Buffer.from(chunk));
            kept += chunk.length;
          }
        }
      });
    } catch (err) {
      throw unavailable('read archive', err);
    }
    if (entry.type !== 'file') return undefined;
    return { sha256: hash.digest('hex'), size: entry.size, content: over ? undefined : Buffer.concat(chunks) };
  }

  async processes(): Promise<ProcessEntry[]> {
    const c = await this.container();
    let top: { Titles: string[]; Processes: string[][] | null };
    try {
      top = (await c.top({ ps_args: '-eo pid,comm,args' })) as typeof top;
    } catch (err) {
      const status = statusOf(err);
      if (status === 404) throw wingmanError('WGM_ERR_CLAIM_CONTAINER_MISSING', this.ref.slice(0, 128));
      if (status === 409) return []; // not running: no processes
      // The engine host's ps may not take -o: fall back to the default `ps -ef` columns.
      try {
        top = (await c.top()) as typeof top;
      } catch (err2) {
        if (statusOf(err2) === 409) return [];
        throw unavailable('top', err2);
      }
    }
    const titles = top.Titles ?? [];
    const pidCol = titles.indexOf('PID');
    const rows = top.Processes ?? [];
    if (titles.length === 3 && titles[1] === 'COMMAND') {
      return rows.map((r) => ({ pid: r[0] ?? '', comm: r[1] ?? '', args: r[2] ?? '' }));
    }
    const cmdCol = titles.lastIndexOf('CMD') >= 0 ? titles.lastIndexOf('CMD') : titles.lastIndexOf('COMMAND');
    return rows.map((r) => {
      const args = r[cmdCol] ?? '';
      const argv0 = args.split(/\s+/)[0] ?? '';
      return { pid: r[pidCol] ?? '', comm: argv0.split('/').pop() ?? argv0, args };
    });
  }

  async changeOf(path: string): Promise<ChangeKind | undefined> {
    // A container with a big layer (node_modules …) makes the change list a large answer: claims verified in the
    // same moment share one read. Only a hit is taken from it: a path it lacks may have been written since.
    const hit = this.changesCache && Date.now() - this.changesCache.at < CHANGES_TTL_MS ? this.changesCache.value.get(path) : undefined;
    if (hit) return hit;
    const value = await this.changes();
    return value.get(path);
  }

  async changes(): Promise<Map<string, ChangeKind>> {
    const value = await this.readChanges();
    this.changesCache = { value, at: Date.now() };
    return value;
  }

  async archive(path: string): Promise<NodeJS.ReadableStream | undefined> {
    const c = await this.container();
    try {
      return await c.getArchive({ path });
    } catch (err) {
      const status = statusOf(err);
      if (status === 404 || status === 400) {
        await this.assertExists();
        return undefined;
      }
      throw unavailable('archive', err);
    }
  }

  private async readChanges(): Promise<Map<string, ChangeKind>> {
    const c = await this.container();
    let list: { Path: string; Kind: number }[] | null;
    try {
      list = (await c.changes()) as typeof list;
    } catch (err) {
      if (statusOf(err) === 404) throw wingmanError('WGM_ERR_CLAIM_CONTAINER_MISSING', this.ref.slice(0, 128));
      throw unavailable('changes', err);
    }
    const out = new Map<string, ChangeKind>();
    for (const ch of list ?? []) out.set(ch.Path, ch.Kind === 1 ? 'added' : ch.Kind === 2 ? 'deleted' : 'modified');
    return out;
  }

  async exec(cmd: string[], opts: { timeoutMs: number; maxOutputBytes: number; workingDir?: string }): Promise<ExecResult> {
    const c = await this.container();
    const started = Date.now();
    let exec: Dockerode.Exec;
    let stream: NodeJS.ReadWriteStream;
    try {
      exec = await c.exec({
        Cmd: cmd,
        AttachStdout: true,
        AttachStderr: true,
        AttachStdin: false,
        Tty: false,
        ...(opts.workingDir ? { WorkingDir: opts.workingDir } : {}),
      });
      stream = (await exec.start({ hijack: true, stdin: false })) as NodeJS.ReadWriteStream;
    } catch (err) {
      const status = statusOf(err);
      if (status === 404) throw wingmanError('WGM_ERR_CLAIM_CONTAINER_MISSING', this.ref.slice(0, 128));
      if (status === 409) {
        // not running
        return { exitCode: null, stdout: '', stderr: 'container is not running', truncated: false, timedOut: false, durationMs: Date.now() - started };
      }
      throw unavailable('exec', err);
    }
    const out = new BoundedText(opts.maxOutputBytes);
    const errOut = new BoundedText(opts.maxOutputBytes);
    const timedOut = await new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => {
        (stream as unknown as { destroy(): void }).destroy();
        resolve(true);
      }, opts.timeoutMs);
      timer.unref();
      const done = () => {
        clearTimeout(timer);
        resolve(false);
      };
      this.docker.modem.demuxStream(stream, out.sink(), errOut.sink());
      stream.once('end', done);
      stream.once('close', done);
      stream.once('error', done);
    });
    let exitCode: number | null = null;
    if (!timedOut) {
      // The stream ends a moment before the engine records the exit code.
      for (let i = 0; i < 50; i++) {
        try {
          const s = await exec.inspect();
          if (!s.Running) {
            exitCode = s.ExitCode ?? null;
            break;
          }
        } catch (err) {
          throw unavailable('exec inspect', err);
        }
        await new Promise((r) => setTimeout(r, 20));
      }
    }
    return {
      exitCode,
      stdout: out.text(),
      stderr: errOut.text(),
      truncated: out.truncated || errOut.truncated,
      timedOut,
      durationMs: Date.now() - started,
    };
  }

  async inspectContainer(nameOrId: string): Promise<OtherContainer | 'not-owned' | undefined> {
    try {
      const d = await this.docker.getContainer(nameOrId.replace(/^\//, '')).inspect();
      return { id: d.Id, name: d.Name.replace(/^\//, ''), running: d.State?.Running === true, status: d.State?.Status ?? 'unknown' };
    } catch (err) {
      if (statusOf(err) === 404) return undefined;
      // The proxy refuses containers that are not the worker's: one it did not start through its socket.
      if (statusOf(err) === 403 && /is not [a-z0-9_.-]+'s/.test(String((err as { message?: string }).message))) return 'not-owned';
      throw unavailable('inspect container', err);
    }
  }

  private async assertExists(): Promise<void> {
    this.cached = undefined;
    await this.info();
  }
}

/** Keeps the first and the last maxBytes/2 of a stream (a runner's summary is at the end). */
class BoundedText {
  private head: Buffer[] = [];
  private headLen = 0;
  private tail: Buffer = Buffer.alloc(0);
  truncated = false;

  constructor(private readonly max: number) {}

  sink(): Writable {
    return new Writable({
      write: (chunk: Buffer, _enc, cb) => {
        this.add(chunk);
        cb();
      },
    });
  }

  private add(chunk: Buffer): void {
    const half = Math.floor(this.max / 2);
    if (this.headLen < half) {
      const take = chunk.subarray(0, half - this.headLen);
      this.head.push(Buffer.from(take));
      this.headLen += take.length;
      chunk = chunk.subarray(take.length);
    }
    if (chunk.length === 0) return;
    const joined = Buffer.concat([this.tail, chunk]);
    if (joined.length > half) {
      this.truncated = true;
      this.tail = Buffer.from(joined.subarray(joined.length - half));
    } else {
      this.tail = joined;
    }
  }

  text(): string {
    const head = Buffer.concat(this.head).toString('utf8');
    const tail = this.tail.toString('utf8');
    return this.truncated ? `${head}\n[… output truncated …]\n${tail}` : head + tail;
  }
}
