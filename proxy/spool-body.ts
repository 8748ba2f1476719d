// A held call whose body is not JSON (a tar for `docker cp` into a container, an image to load) is bound to its
// approval by digest: the body is written to a private file while it is hashed, the approval names the digest,
// and exactly that file is what reaches dockerd. Nothing the client sends after the decision can change it.
import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import type { IncomingMessage } from 'node:http';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { Transform } from 'node:stream';
import { isWingmanError, wingmanError } from '../core/errors.js';

export interface SpooledBody {
  path: string;
  sha256: string;
  bytes: number;
  remove(): void;
}

/** The most a held call may send: held bodies wait on disk, not in memory. */
const MAX_SPOOL_BYTES = 8 * 1024 ** 3;

export async function spoolBody(req: IncomingMessage, dir: string): Promise<SpooledBody> {
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  const file = path.join(dir, `body-${randomBytes(12).toString('hex')}`);
  const hash = createHash('sha256');
  let bytes = 0;
  const meter = new Transform({
    transform(chunk: Buffer, _enc, cb) {
      bytes += chunk.length;
      if (bytes > MAX_SPOOL_BYTES) return cb(wingmanError('WGM_ERR_PROXY_BODY_TOO_LARGE', `body exceeds ${MAX_SPOOL_BYTES} bytes`));
      hash.update(chunk);
      cb(null, chunk);
    },
  });
  const remove = () => fs.rmSync(file, { force: true });
  try {
    await pipeline(req, meter, fs.createWriteStream(file, { mode: 0o600 }));
  } catch (err) {
    remove();
    if (isWingmanError(err, 'WGM_ERR_PROXY_BODY_TOO_LARGE')) throw err;
    throw wingmanError('WGM_ERR_PROXY_BAD_BODY', `body could not be read: ${(err as Error).message}`);
  }
  return { path: file, sha256: hash.digest('hex'), bytes, remove };
}
