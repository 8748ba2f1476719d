// Reads the first entry of a tar stream (what `GET /containers/{id}/archive?path=` returns for one path) without
// buffering it: regular-file bytes go to `onData` as they arrive. Handles pax ('x'/'g') and GNU long-name ('L'/'K')
// headers and base-256 sizes. The stream is destroyed once the entry is read, so a huge archive is never drained.
import type { Readable } from 'node:stream';

export type TarEntryType = 'file' | 'directory' | 'symlink' | 'other';

export interface TarEntry {
  name: string;
  type: TarEntryType;
  size: number;
  linkName: string;
}

const BLOCK = 512;

function field(buf: Buffer, start: number, len: number): string {
  const raw = buf.subarray(start, start + len);
  const nul = raw.indexOf(0);
  return raw.subarray(0, nul === -1 ? raw.length : nul).toString('utf8');
}

function numeric(buf: Buffer, start: number, len: number): number {
  const raw = buf.subarray(start, start + len);
  if (raw[0]! & 0x80) {
    // base-256 (GNU): big-endian, first byte's high bit is the marker
    let n = raw[0]! & 0x7f;
    for (let i = 1; i < raw.length; i++) n = n * 256 + raw[i]!;
    return n;
  }
  const s = field(buf, start, len).trim();
  return s ? parseInt(s, 8) : 0;
}

function parsePax(data: Buffer): Record<string, string> {
  const out: Record<string, string> = {};
  let i = 0;
  while (i < data.length) {
    const sp = data.indexOf(0x20, i);
    if (sp === -1) break;
    const len = parseInt(data.subarray(i, sp).toString('ascii'), 10);
    if (!Number.isFinite(len) || len <= 0) break;
    const rec = data.subarray(sp + 1, i + len - 1).toString('utf8');
    const eq = rec.indexOf('=');
    if (eq > 0) out[rec.slice(0, eq)] = rec.slice(eq + 1);
    i += len;
  }
  return out;
}

/**
 * Resolve with the first entry's header once its data (for a regular file) has been passed to onData in full.
 * Rejects when the stream ends early or is not a tar archive.
 */
export function readFirstTarFile(stream: Readable, onData: (chunk: Buffer) => void): Promise<TarEntry> {
  return new Promise((resolve, reject) => {
    let buf: Buffer = Buffer.alloc(0);
    let pax: Record<string, string> = {};
    let longName: string | undefined;
    let longLink: string | undefined;
    // what we are reading: a header, a meta entry's data (pax / long name), or the file's data
    let state: 'header' | 'meta' | 'data' = 'header';
    let metaType = '';
    let remaining = 0;
    let padded = 0;
    let entry: TarEntry | undefined;
    let done = false;

    const finish = (err?: Error) => {
      if (done) return;
      done = true;
      stream.removeListener('data', onChunk);
      stream.destroy();
      if (err) reject(err);
      else resolve(entry!);
    };

    const step = (): void => {
      for (;;) {
        if (state === 'header') {
          if (buf.length < BLOCK) return;
          const h = buf.subarray(0, BLOCK);
          buf = buf.subarray(BLOCK);
          if (h.every((b) => b === 0)) return finish(new Error('empty tar archive'));
          const magic = field(h, 257, 6);
          if (magic !== 'ustar' && magic !== 'ustar ' && !magic.startsWith('ustar')) {
            return finish(new Error('not a tar archive'));
          }
          const type = String.fromCharCode(h[156]!);
          const size = numeric(h, 124, 12);
          if (type === 'x' || type === 'g' || type === 'L' || type === 'K') {
            state = 'meta';
            metaType = type;
            remaining = size;
            padded = Math.ceil(size / BLOCK) * BLOCK;
            continue;
          }
          const prefix = field(h, 345, 155);
          const base = field(h, 0, 100);
          const name = pax.path ?? longName ?? (prefix ? `${prefix}/${base}` : base);
          const linkName = pax.linkpath ?? longLink ?? field(h, 157, 100);
          const realSize = pax.size !== undefined ? Number(pax.size) : size;
          const kind: TarEntryType =
            type === '0' || type === '\0' || type === '7' ? 'file' : type === '5' ? 'directory' : type === '2' ? 'symlink' : 'other';
          entry = { name, type: kind, size: kind === 'file' ? realSize : 0, linkName };
          if (kind !== 'file' || realSize === 0) return finish();
          state = 'data';
          remaining = realSize;
          continue;
        }
        if (state === 'meta') {
          if (buf.length < padded) return;
          const data = buf.subarray(0, remaining);
          buf = buf.subarray(padded);
          if (metaType === 'x') pax = { ...pax, ...parsePax(data) };
          else if (metaType === 'L') longName = field(data, 0, data.length);
          else if (metaType === 'K') longLink = field(data, 0, data.length);
          state = 'header';
          continue;
        }
        // data
        if (buf.length === 0) return;
        const take = Math.min(remaining, buf.length);
        onData(buf.subarray(0, take));
        buf = buf.subarray(take);
        remaining -= take;
        if (remaining === 0) return finish();
        return;
      }
    };

    const onChunk = (chunk: Buffer) => {
      buf = buf.length ? Buffer.concat([buf, chunk]) : chunk;
      try {
        step();
      } catch (err) {
        finish(err as Error);
      }
    };
    stream.on('data', onChunk);
    stream.once('error', (err) => finish(err));
    stream.once('end', () => finish(entry && state !== 'data' ? undefined : new Error('tar archive ended early')));
    stream.once('close', () => finish(entry && state !== 'data' ? undefined : new Error('tar archive ended early')));
  });
}
