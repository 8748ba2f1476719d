// Lean reads of the engine for the facts a decision needs (what a name resolves to, and its id). dockerode's
// request stack costs several hundred µs of CPU per call; these are on the hot path of every call that names an
// object, so they go over one keep-alive agent with node's own HTTP client, and an answer is kept for a second.
//
// Why a second-old answer is safe: the call is forwarded to the id that was checked, never to the name, so a
// stale answer can only send it to that same (owned) object or to a 404 — never to someone else's. Every write
// through the proxy clears the cache, so what workers change is seen at once; only changes made past Wingman
// (ops on the engine, `--rm` removal at exit) can be up to a second late.
import http from 'node:http';
import { asText } from '../util/as-text.js';

export type LookupKind = 'container' | 'exec' | 'volume' | 'network' | 'image';

const PATHS: Record<LookupKind, (ref: string) => string> = {
  container: (r) => `/containers/${encodeURIComponent(r)}/json`,
  exec: (r) => `/exec/${encodeURIComponent(r)}/json`,
  volume: (r) => `/volumes/${encodeURIComponent(r)}`,
  network: (r) => `/networks/${encodeURIComponent(r)}`,
  // image references carry '/' (a registry, a namespace); dockerd's route takes them as they are
  image: (r) => `/images/${r.split('/').map(encodeURIComponent).join('/')}/json`,
};

const TTL_MS = 1_000;

export class EngineLookup {
  private readonly agent = new http.Agent({ keepAlive: true, maxSockets: 64 });
  private readonly cache = new Map<string, { answer: Record<string, unknown>; at: number }>();

  constructor(private readonly socketPath: string) {}

  /** Something may have changed names, tags or existence: the next answers come from the engine. */
  invalidate(): void {
    this.cache.clear();
  }

  /** The engine's inspect answer; undefined when it says 404. Any other failure throws (with `statusCode`). */
  async inspect(kind: LookupKind, ref: string): Promise<Record<string, unknown> | undefined> {
    const key = `${kind}\0${ref}`;
    const hit = this.cache.get(key);
    if (hit && Date.now() - hit.at < TTL_MS) return hit.answer;
    const answer = await this.ask(kind, ref);
    // Only what exists is kept: a name created a moment later must not be hidden by a cached 404.
    if (answer) {
      if (this.cache.size > 10_000) this.cache.clear();
      this.cache.set(key, { answer, at: Date.now() });
    } else this.cache.delete(key);
    return answer;
  }

  private ask(kind: LookupKind, ref: string): Promise<Record<string, unknown> | undefined> {
    return new Promise((resolve, reject) => {
      const req = http.get({ agent: this.agent, socketPath: this.socketPath, path: PATHS[kind](ref) }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('error', reject);
        res.on('end', () => {
          const status = res.statusCode ?? 0;
          if (status === 404) return resolve(undefined);
          const text = Buffer.concat(chunks).toString('utf8');
          if (status !== 200) {
            let engineMessage: string | undefined;
            try {
              engineMessage = asText((JSON.parse(text) as { message?: unknown }).message, '') || undefined;
            } catch {
              /* not Docker's error shape */
            }
            return reject(Object.assign(new Error(`engine answered ${status} to an inspect: ${text.slice(0, 200)}`), { statusCode: status, engineMessage }));
          }
          try {
            resolve(JSON.parse(text) as Record<string, unknown>);
          } catch {
            reject(Object.assign(new Error('engine answered an inspect with invalid JSON'), { statusCode: 502 }));
          }
        });
      });
      req.on('error', reject);
    });
  }

  close(): void {
    this.agent.destroy();
  }
}
