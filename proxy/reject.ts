// Every refusal the proxy gives goes through here: one log shape, Docker's `{"message": "wingman: …"}` body (so the
// docker CLI prints it), for normal responses and for raw (upgrade) sockets alike.
// The status is the code's, from the one table (core/errors.ts): a caller names the code and says what happened.
import { STATUS_CODES, type ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { ERRORS, type ErrorCode } from '../core/errors.js';
import type { Logger } from '../core/log.js';

export interface Rejection {
  /** the code's status in core/errors.ts */
  readonly status: number;
  /** what the client reads, without the `wingman: ` prefix */
  readonly message: string;
  /** bounded code for logs, e.g. WGM_ERR_PROXY_FORBIDDEN */
  readonly code: ErrorCode;
}

/** A refusal with `code`'s status; `message` says what happened (default: the table's message for the code). */
export function rejection(code: ErrorCode, message?: string): Rejection {
  return { code, status: ERRORS[code].status, message: message ?? ERRORS[code].message };
}

export function rejectionBody(r: Rejection): string {
  return JSON.stringify({ message: `wingman: ${r.message}` });
}

function logRejection(log: Logger, worker: string, r: Rejection, method: string, route: string): void {
  log.info({ worker, code: r.code, status: r.status, method, route, detail: r.message }, 'request refused');
}

export function reject(res: ServerResponse, log: Logger, worker: string, r: Rejection, method = '', route = ''): void {
  logRejection(log, worker, r, method, route);
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const body = rejectionBody(r);
  res.writeHead(r.status, {
    'Content-Type': 'application/json',
    'Content-Length': Buffer.byteLength(body),
  });
  res.end(body);
}

export function rejectSocket(socket: Duplex, log: Logger, worker: string, r: Rejection, method = '', route = ''): void {
  logRejection(log, worker, r, method, route);
  const body = rejectionBody(r);
  if (socket.writable) {
    socket.end(
      `HTTP/1.1 ${r.status} ${STATUS_CODES[r.status] ?? 'Error'}\r\nContent-Type: application/json\r\n` +
        `Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
    );
  } else socket.destroy();
}
