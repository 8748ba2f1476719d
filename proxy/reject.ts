// Every refusal the proxy gives goes through here: one log shape, Docker's `{"message": "wingman: …"}` body (so the
// docker CLI prints it), for normal responses and for raw (upgrade) sockets alike.
import type { ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import type { Logger } from '../core/log.js';

export interface Rejection {
  status: number;
  /** what the client reads, without the `wingman: ` prefix */
  message: string;
  /** bounded code for logs and metrics, e.g. WGM_ERR_PROXY_FORBIDDEN */
  code: string;
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

const STATUS_TEXT: Record<number, string> = {
  400: 'Bad Request',
  403: 'Forbidden',
  404: 'Not Found',
  408: 'Request Timeout',
  409: 'Conflict',
  413: 'Payload Too Large',
  415: 'Unsupported Media Type',
  423: 'Locked',
  429: 'Too Many Requests',
  502: 'Bad Gateway',
  503: 'Service Unavailable',
};

export function rejectSocket(socket: Duplex, log: Logger, worker: string, r: Rejection, method = '', route = ''): void {
  logRejection(log, worker, r, method, route);
  const body = rejectionBody(r);
  if (socket.writable) {
    socket.end(
      `HTTP/1.1 ${r.status} ${STATUS_TEXT[r.status] ?? 'Error'}\r\nContent-Type: application/json\r\n` +
        `Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
    );
  } else socket.destroy();
}
