// Reads the tar stream `GET /containers/{id}/archive?path=<dir>` returns into one record per entry (size, mtime,
// sha256 of regular files under a size bound), within bounds on files, bytes and time. dockerd walks the directory
// in lexical order of path components (Go's filepath.WalkDir), so a scan cut short covers exactly the paths up to
// its cursor: compareWalkOrder() says whether a path comes before it.
import { createHash } from 'node:crypto';
import path from 'node:path';
import type { Readable } from 'node:stream';
import tar from 'tar-stream';

export interface TreeEntry {
  /** f file, d directory, l symlink, o other */
  t: 'f' | 'd' | 'l' | 'o';
  /** size in bytes (files) */
  s: number;
  /** mtime, whole seconds since the epoch (the engine's archive keeps no finer time and no ctime) */
  m: number;
  /** sha256 of the content, for files up to the hash bound */
  h?: string;
  /** symlink target */
  l?: string;
  /** read after /check answered and changed since the task started: not the state at the start */
  u?: 1;
}

export interface ScanBounds {
  maxFiles: number;
  /** files larger than this are recorded with size and mtime only */
  hashMaxBytes: number;
  /** bytes read from the stream in all (large files are streamed past even when not hashed) */
  maxBytes: number;
  /** Date.now() after which the scan stops */
  deadline: number;
}

export interface ScanResult {
  entries: Map<string, TreeEntry>;
  /** undefined: read to the end; else why it stopped, and the last path read */
  truncated?: { reason: string; cursor: string | undefined };
  bytes: number;
}

export interface ScanHooks {
  /** keep the content of these files (up to hashMaxBytes) and hand it over */
  wantContent?(abs: string): boolean;
  onContent?(abs: string, content: Buffer): void;
  /** once /check has answered: the task start (s); entries read from then on with a later mtime are marked */
  lateSince?(): number | undefined;
}

/** Component-wise comparison in dockerd's walk order: negative when a is walked before b. */
export function compareWalkOrder(a: string, b: string): number {
  const pa = a.split('/').filter(Boolean);
  const pb = b.split('/').filter(Boolean);
  for (let i = 0; i < Math.min(pa.length, pb.length); i++) {
    if (pa[i] !== pb[i]) return pa[i] < pb[i] ? -1 : 1;
  }
  return pa.length - pb.length;
}

export function scanTree(stream: Readable, root: string, bounds: ScanBounds, hooks: ScanHooks = {}): Promise<ScanResult> {
  // Entries are named relative to the root's parent: archive?path=/work gives "work/", "work/a.txt".
  const parent = path.posix.dirname(root);
  const entries = new Map<string, TreeEntry>();
  const extract = tar.extract();
  let bytes = 0;
  let cursor: string | undefined;
  let stopped: string | undefined;
  return new Promise<ScanResult>((resolve, reject) => {
    let settled = false;
    const finish = (err?: Error) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      if (err && !stopped) return reject(err);
      resolve({ entries, bytes, ...(stopped ? { truncated: { reason: stopped, cursor } } : {}) });
    };
    const stop = (reason: string) => {
      if (stopped) return;
      stopped = reason;
      stream.unpipe(extract);
      (stream as Readable & { destroy(): void }).destroy();
      extract.destroy();
      finish();
    };
    const timer = setTimeout(() => stop('the time bound ran out'), Math.max(0, bounds.deadline - Date.now()));
    timer.unref();

    extract.on('entry', (header, body, next) => {
      const abs = path.posix.join(parent, header.name).replace(/\/$/, '') || '/';
      if (entries.size >= bounds.maxFiles) {
        body.resume();
        return stop(`more than ${bounds.maxFiles} files`);
      }
      const type = header.type === 'file' || header.type === 'contiguous-file' ? 'f' : header.type === 'directory' ? 'd' : header.type === 'symlink' ? 'l' : 'o';
      const size = header.size ?? 0;
      const e: TreeEntry = { t: type, s: type === 'f' ? size : 0, m: Math.floor((header.mtime?.getTime() ?? 0) / 1000) };
      if (type === 'l' && header.linkname) e.l = header.linkname;
      const since = hooks.lateSince?.();
      // Whole seconds: a file written in the start's own second is taken as the start's (a worker acting before
      // /check answers races any baseline, late or not).
      if (since !== undefined && e.m > since) e.u = 1;
      const hash = type === 'f' && size <= bounds.hashMaxBytes ? createHash('sha256') : undefined;
      const keep = hash && hooks.wantContent?.(abs) ? ([] as Buffer[]) : undefined;
      body.on('data', (data: unknown) => {
        const chunk = data as Buffer;
        bytes += chunk.length;
        hash?.update(chunk);
        keep?.push(chunk);
        if (bytes > bounds.maxBytes) stop(`more than ${bounds.maxBytes} bytes`);
      });
      body.on('end', () => {
        if (stopped) return;
        if (hash) e.h = hash.digest('hex');
        if (keep) hooks.onContent?.(abs, Buffer.concat(keep));
        entries.set(abs, e);
        cursor = abs;
        next();
      });
      body.on('error', (err: Error) => finish(err));
    });
    extract.on('finish', () => finish());
    extract.on('error', (err: Error) => finish(err));
    stream.on('error', (err: Error) => finish(err));
    stream.pipe(extract);
  });
}
