// Bearer-token check for the ops endpoints (constant-time compare, no token → every ops call refused).
import { createHash, timingSafeEqual } from 'node:crypto';

export function tokenMatches(header: string | undefined, token: string | undefined): boolean {
  if (!token || !header) return false;
  const m = /^Bearer\s+(\S+)\s*$/i.exec(header);
  if (!m) return false;
  const a = createHash('sha256').update(m[1]).digest();
  const b = createHash('sha256').update(token).digest();
  return timingSafeEqual(a, b);
}

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/**
 * A state-changing request a browser sent from a page of another origin. Browsers name the page's origin in
 * `Origin` (and say `Sec-Fetch-Site`); the CLI and curl send neither and are judged by their token alone. The
 * console's own calls are same-origin. No CORS header is ever sent, so a foreign page cannot read answers either.
 */
export function crossOrigin(method: string, headers: Record<string, string | string[] | undefined>, protocol: string): boolean {
  if (SAFE_METHODS.has(method.toUpperCase())) return false;
  const site = headers['sec-fetch-site'];
  if (typeof site === 'string' && site !== 'same-origin' && site !== 'none') return true;
  const origin = headers.origin;
  if (origin === undefined) return false;
  if (typeof origin !== 'string' || origin === 'null') return true;
  return origin !== `${protocol}://${String(headers.host ?? '')}`;
}
