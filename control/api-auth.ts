// Bearer-token check for the ops endpoints (constant-time compare, no token → every ops call refused).
import { createHash, timingSafeEqual } from 'node:crypto';

export function tokenMatches(header: string | undefined, token: string | undefined): boolean {
  if (!token || !header) return false;
  const m = /^Bearer\s+(\S+)\s*$/i.exec(header);
  if (!m) return false;
  const a = createHash('sha256').update(m[1]!).digest();
  const b = createHash('sha256').update(token).digest();
  return timingSafeEqual(a, b);
}
