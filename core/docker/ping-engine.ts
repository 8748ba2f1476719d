// A start-up look at the Docker engine behind WINGMAN_UPSTREAM: one `GET /_ping` with a short timeout. The
// processes keep running when it fails (the engine may come later); the point is that ops read, at start, which
// path was tried and which variable sets it, instead of meeting a bare "unreachable" on every call later.
import http from 'node:http';

export type EnginePing = { ok: true; apiVersion?: string } | { ok: false; reason: string };

/** What a refused call and the start-up warning say when nothing answers at the engine's socket. */
export function engineUnreachable(socketPath: string): string {
  return `docker engine unreachable at ${socketPath} (WINGMAN_UPSTREAM)`;
}

export function pingEngine(socketPath: string, timeoutMs = 2000): Promise<EnginePing> {
  return new Promise((resolve) => {
    let settled = false;
    const done = (r: EnginePing) => {
      if (settled) return;
      settled = true;
      resolve(r);
    };
    const req = http.request({ socketPath, path: '/_ping', method: 'GET', timeout: timeoutMs }, (res) => {
      res.resume();
      res.on('end', () => {
        const v = res.headers['api-version'];
        if (res.statusCode === 200) done({ ok: true, ...(typeof v === 'string' ? { apiVersion: v } : {}) });
        else done({ ok: false, reason: `/_ping answered ${res.statusCode}` });
      });
      res.on('error', (err) => done({ ok: false, reason: err.message }));
    });
    req.on('timeout', () => {
      req.destroy();
      done({ ok: false, reason: `no answer to /_ping within ${timeoutMs} ms` });
    });
    req.on('error', (err: NodeJS.ErrnoException) => done({ ok: false, reason: err.code ?? err.message }));
    req.end();
  });
}
