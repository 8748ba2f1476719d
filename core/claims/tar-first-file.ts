// Reads the first entry of a tar stream (what `GET /containers/{id}/archive?path=` returns for one path) without
// buffering it: regular-file bytes go to `onData` as they arrive. The archive format (pax and GNU long names,
// base-256 sizes) is tar-stream's; this file only stops at the first entry and destroys the stream, so a huge
// archive is never drained.
import type { Readable } from 'node:stream';
import type tarStream from 'tar-stream';
import { lazyRequire } from '../util/lazy-require.js';

// tar-stream loads with the first file read (a claim check), not at start.
const tar = lazyRequire<typeof tarStream>(import.meta.url, 'tar-stream');

export type TarEntryType = 'file' | 'directory' | 'symlink' | 'other';

export interface TarEntry {
  name: string;
  type: TarEntryType;
  size: number;
  linkName: string;
}

function entryType(type: tarStream.Header['type']): TarEntryType {
  if (type === 'file' || type === 'contiguous-file') return 'file';
  if (type === 'directory' || type === 'symlink') return type;
  return 'other';
}

/** tar-stream's errors in the words callers (and their logs) already know. */
function describe(err: Error): Error {
  if (/unexpected end of data/i.test(err.message)) return new Error('tar archive ended early');
  if (/invalid tar header|invalid header|unknown format/i.test(err.message)) return new Error(`not a tar archive (${err.message})`);
  return err;
}

/**
 * Resolve with the first entry's header once its data (for a regular file) has been passed to onData in full.
 * Rejects when the stream ends early or is not a tar archive.
 */
export function readFirstTarFile(stream: Readable, onData: (chunk: Buffer) => void): Promise<TarEntry> {
  return new Promise((resolve, reject) => {
    const extract = tar().extract();
    let entry: TarEntry | undefined;
    let done = false;
    const finish = (err?: Error): void => {
      if (done) return;
      done = true;
      stream.unpipe(extract);
      stream.destroy();
      extract.destroy();
      if (err) reject(err);
      else resolve(entry!);
    };
    extract.on('entry', (header, body) => {
      const type = entryType(header.type);
      entry = { name: header.name, type, size: type === 'file' ? (header.size ?? 0) : 0, linkName: header.linkname ?? '' };
      if (type !== 'file') return finish();
      body.on('data', (chunk) => onData(chunk as Buffer));
      body.once('end', () => finish());
      // next() is never called: the first entry is all we read.
    });
    extract.once('finish', () => finish(entry ? undefined : new Error('empty tar archive')));
    extract.once('error', (err: Error) => finish(describe(err)));
    stream.once('error', (err) => finish(err));
    // A stream closed before its end (a dropped connection) never ends the extractor: it is cut short.
    stream.once('close', () => {
      if (!stream.readableEnded) finish(new Error('tar archive ended early'));
    });
    stream.pipe(extract);
  });
}
