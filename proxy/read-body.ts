// Read a request body whole, up to a bound. Chunked bodies are read whole too (and re-sent with a Content-Length),
// so nothing reaches Docker uninspected; a body over the bound is refused, never forwarded.
import type { IncomingMessage } from 'node:http';
import { wingmanError } from '../core/errors.js';

export function hasBody(req: IncomingMessage): boolean {
  const len = req.headers['content-length'];
  if (len !== undefined) return Number(len) > 0;
  return req.headers['transfer-encoding'] !== undefined;
}

export function readBody(req: IncomingMessage, max: number): Promise<Buffer> {
  const declared = req.headers['content-length'];
  if (declared !== undefined && Number(declared) > max) {
    // Drain nothing: the connection is closed after the refusal so the unread body cannot be parsed as a request.
    return Promise.reject(wingmanError('WGM_ERR_PROXY_BODY_TOO_LARGE', `body of ${declared} bytes exceeds ${max}`));
  }
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (c: Buffer) => {
      size += c.length;
      if (size > max) {
        cleanup();
        req.pause();
        reject(wingmanError('WGM_ERR_PROXY_BODY_TOO_LARGE', `body exceeds ${max} bytes`));
        return;
      }
      chunks.push(c);
    };
    const onEnd = () => {
      cleanup();
      resolve(Buffer.concat(chunks, size));
    };
    const onError = (err: Error) => {
      cleanup();
      reject(wingmanError('WGM_ERR_PROXY_BAD_BODY', `body could not be read: ${err.message}`));
    };
    const onAborted = () => {
      cleanup();
      reject(wingmanError('WGM_ERR_PROXY_BAD_BODY', 'client went away while sending the body'));
    };
    const cleanup = () => {
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('error', onError);
      req.off('aborted', onAborted);
    };
    req.on('data', onData);
    req.on('end', onEnd);
    req.on('error', onError);
    req.on('aborted', onAborted);
  });
}
